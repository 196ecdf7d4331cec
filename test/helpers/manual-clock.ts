/** A clock a test moves by hand: `now` reads it, `advance` moves it forward. */
export function manualClock(start = Date.now()) {
  let nowMs = start;
  return {
    now: () => new Date(nowMs),
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}
