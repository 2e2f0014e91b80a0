// Preloaded (node --import) into a worker whose machine clock is off: Date.now() and new Date()
// answer DUOLOGUE_TEST_CLOCK_SKEW_MS ms from the real time (the monotonic clock is left alone,
// as NTP or a person setting the wall clock leaves it).
const skew = Number(process.env.DUOLOGUE_TEST_CLOCK_SKEW_MS ?? 0);
if (skew) {
  const Real = Date;
  const realNow = Real.now.bind(Real);
  class Skewed extends Real {
    constructor(...args) {
      if (args.length === 0) super(realNow() + skew);
      else super(...args);
    }
    static now() {
      return realNow() + skew;
    }
  }
  globalThis.Date = Skewed;
}
