"""Floor 1, the engine: VGG19 and its taps, the losses, L-BFGS, transfer, synthesis, reconstruction.
Torch lives here. It imports only `common`; it knows nothing of figures, the build or the command line."""
