// The engine's coarse-to-fine plan (generator/engine/transfer.py plan_stages, settings.py
// stage_steps) for the page: the stages' canvas sizes and evaluations, from objective.json's
// `schedule`. Pure functions, tested against the engine in tests/browser/test_live.py.
import {pyRound} from "./images.js";

// Python's floor division for non-negative integers.
const div = (a, b) => Math.floor(a / b);

// Evaluations per stage: `finalShare` of the budget for the final stage, the rest shared equally.
export function stageSteps(steps, stages, finalShare) {
  if (stages === 1) return [steps];
  const final = Math.min(steps - (stages - 1), Math.max(1, pyRound(steps * finalShare)));
  const coarse = steps - final;
  const share = Array(stages - 1).fill(div(coarse, stages - 1));
  share[share.length - 1] += coarse - share.reduce((a, b) => a + b, 0);
  return [...share, final];
}

// The scales whose canvas keeps a short side of at least `minSide` px; the final one always stays.
export function effectiveScales([width, height], scales, minSide) {
  const kept = scales.slice(0, -1).filter(s => Math.min(width, height) * s >= minSide);
  return [...kept, scales[scales.length - 1]];
}

// [{width, height, evaluations}] for a canvas of (width, height) chosen at the page's size `side`
// and `steps` evaluations in all: the engine's schedule at that size (objective.json's schedule).
export function planStages([width, height], side, steps, schedule, minCanvasSide) {
  const plan = schedule.by_size[String(side)];
  if (!plan) throw new Error(`objective.json: no schedule for ${side} px`);
  const scales = effectiveScales([width, height], plan.scales, schedule.min_stage_side);
  const counts = stageSteps(steps, scales.length, plan.final_share);
  return scales.map((s, i) => ({
    width: Math.max(minCanvasSide, pyRound(width * s)), height: Math.max(minCanvasSide, pyRound(height * s)),
    evaluations: counts[i],
  }));
}

// The plan's cost in evaluations at the final size (an evaluation costs about its pixel count).
export function relativeCost(stages) {
  const last = stages[stages.length - 1];
  return stages.reduce((sum, st) => sum + st.evaluations * (st.width * st.height) / (last.width * last.height), 0);
}
