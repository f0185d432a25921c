// --wait: the one loop that follows a resource until its status says how the request ended.
import type { KubeObject } from '../../runtime/kube.ts';
import { EXIT } from '../io.ts';
import { nowOf, type PluginIo } from './session.ts';

/** What the status says so far: done (ok or not) with a result line, or still going with a progress line. */
export interface Verdict {
  done: boolean;
  ok?: boolean;
  progress?: string;
  result?: string;
}

export interface Following {
  /** How long to wait, in milliseconds. */
  limitMs: number;
  read: () => Promise<KubeObject>;
  judge: (object: KubeObject) => Verdict;
  /** The message when the time is up, from the last object read. */
  onTimeout: (last: KubeObject | undefined) => string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the verdict is done or the time is up; prints each new progress line. Returns the exit code. */
export async function follow(io: PluginIo, following: Following): Promise<number> {
  const deadline = nowOf(io).getTime() + following.limitMs;
  let last: KubeObject | undefined;
  let lastProgress = '';
  for (;;) {
    last = await following.read();
    const verdict = following.judge(last);
    if (verdict.progress && verdict.progress !== lastProgress) {
      io.stderr.write(`${verdict.progress}\n`);
      lastProgress = verdict.progress;
    }
    if (verdict.done) {
      if (verdict.result) (verdict.ok ? io.stdout : io.stderr).write(`${verdict.result}\n`);
      return verdict.ok ? EXIT.ok : EXIT.failure;
    }
    if (nowOf(io).getTime() >= deadline) {
      io.stderr.write(`${following.onTimeout(last)}\n`);
      return EXIT.failure;
    }
    await sleep(io.pollIntervalMs ?? 1000);
  }
}
