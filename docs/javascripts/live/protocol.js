// The messages between the live page (page.js) and its Web Worker (worker.js). Each message is an
// object whose `type` is one of the names below; both sides use these constants, never the strings.

// Page → worker.
export const TO_WORKER = Object.freeze({
  INIT: "init",          // {backend: "auto" | "webgpu" | "webgl" | "wasm", calibrate: boolean}
  START: "start",        // {content, style, settings, evaluations}: RGBA bytes (buffers transferred)
  CONTINUE: "continue",  // {evaluations}: more evaluations of the current run
  STOP: "stop",          // {}: stop after the evaluation in progress
});

// Worker → page.
export const FROM_WORKER = Object.freeze({
  READY: "ready",            // {backend, skipped, bytes, objective, seconds, threads, memory}
  CALIBRATED: "calibrated",  // {side, perEvaluation, memory}: seconds per evaluation at 64 px
  STARTED: "started",        // {width, height, seconds?, continued?}
  PROGRESS: "progress",      // {evaluation, content, style, tv, total, seconds, width, height, rgba}
  DONE: "done",              // {evaluations, seconds, memory}
  STOPPED: "stopped",        // {evaluations, seconds, memory}
  ERROR: "error",            // {message (Spanish, for the reader), memory}
});
