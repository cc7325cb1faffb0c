// The messages between the live page (page.js) and its Web Worker (worker.js). Each message is an
// object whose `type` is one of the names below; both sides use these constants, never the strings.

// Page → worker.
export const TO_WORKER = Object.freeze({
  INIT: "init",          // {backend: "auto" | "webgpu" | "webgl" | "wasm", calibrate: side in px or 0}
  PAINTING: "painting",  // {key, site?: a site painting's name, image?: {rgba, width, height} at the style side, keep: [keys]}
  START: "start",        // {stages: [{rgba, width, height, evaluations}], key, style: {rgba, width, height},
                         //  blend: null | {key, weight, style}: a second painting, settings}
  CONTINUE: "continue",  // {evaluations}: more evaluations at the final size
  STOP: "stop",          // {}: stop after the evaluation in progress
});

// Worker → page.
export const FROM_WORKER = Object.freeze({
  READY: "ready",                          // {backend, skipped, bytes, objective, seconds, threads, isolated, memory}
  CALIBRATED: "calibrated",                // {side, perEvaluation, memory}: seconds per evaluation at side x side
  PAINTING_PROGRESS: "painting-progress",  // {key, done, total, seconds}: layers of the painting computed
  PAINTING_READY: "painting-ready",        // {key, source: "prepared" | "computed", seconds, memory}
  STARTED: "started",                      // {width, height, seconds?, continued?}
  PROGRESS: "progress",                    // {evaluation, content, style, tv, total, seconds, width, height, stage, stages, rgba}
  DONE: "done",                            // {evaluations, seconds, memory}
  STOPPED: "stopped",                      // {evaluations, seconds, memory}
  ERROR: "error",                          // {message (Spanish, for the reader), phase, unexpected, diverged, memory}
});

// What the worker was doing when an error came (FROM_WORKER.ERROR's `phase`).
export const PHASE = Object.freeze({
  INIT: "init",
  CALIBRATE: "calibrate",
  PAINTING: "painting",
  RUN: "run",
});
