import { defineConfig } from 'vitest/config';

/** npm run test:interop: the suite against the Python ecosystem (needs npm run interop:setup).
 * One file at a time: the files drive ptys and Python processes against real time on a 2-core machine. */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts', 'test/vendor/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
