// Time as a port, so schedules, retention and backoff can be tested without sleeping.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #current: number;
  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.#current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#current);
  }
  set(to: Date | string): void {
    this.#current = new Date(to).getTime();
  }
  advance(ms: number): void {
    this.#current += ms;
  }
}
