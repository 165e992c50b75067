/**
 * Runs a scenario's sessions under one defence setting: sessions of a few actions each, with
 * the labels balanced and shuffled, several sessions at a time, until every class has the
 * traces asked for.
 */
import { seededRandom } from "../support/seeded-random.js";
import type { Trace } from "./analysis/trace.js";
import type { DefenceSetting } from "./defences.js";
import type { LeakageRig } from "./rig.js";
import type { Scenario } from "./scenarios/scenario.js";

export interface Collected {
  traces: Trace[];
  latenciesMs: number[];
  wireBytes: number;
  durationMs: number;
  actions: number;
}

export interface CollectOptions {
  tracesPerClass: number;
  /** Actions per session: traces of one session never straddle the train/test split. */
  actionsPerSession: number;
  concurrency: number;
  seed: number;
  progress?: (done: number, total: number) => void;
}

export async function collect(
  rig: LeakageRig,
  scenario: Scenario,
  defence: DefenceSetting,
  options: CollectOptions,
): Promise<Collected> {
  const random = seededRandom(options.seed);
  const labels: string[] = [];
  for (const label of scenario.classes) for (let i = 0; i < options.tracesPerClass; i++) labels.push(label);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j] as string, labels[i] as string];
  }
  const sessions: string[][] = [];
  for (let i = 0; i < labels.length; i += options.actionsPerSession) {
    sessions.push(labels.slice(i, i + options.actionsPerSession));
  }
  const out: Collected = { traces: [], latenciesMs: [], wireBytes: 0, durationMs: 0, actions: 0 };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < sessions.length) {
      const index = next++;
      const sessionLabels = sessions[index] as string[];
      const result = await scenario.session(rig, {
        shaping: defence.shaping,
        labels: sessionLabels,
        sessionId: `${defence.name}-${scenario.name}-${index}`,
        random: seededRandom(options.seed * 7919 + index),
      });
      out.traces.push(...result.traces);
      out.latenciesMs.push(...result.latenciesMs);
      out.wireBytes += result.wireBytes;
      out.durationMs += result.durationMs;
      out.actions += sessionLabels.length;
      done += sessionLabels.length;
      options.progress?.(done, labels.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, sessions.length) }, worker));
  return out;
}
