import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The interop suite (and the vendor SDKs, part of it) needs the Python venv: npm run test:interop.
    exclude: [...configDefaults.exclude, 'test/interop/**', 'test/vendor/**'],
    testTimeout: 60_000,
    hookTimeout: 20_000,
    // Pty tests spawn socat; run files in forks so a stuck native handle cannot hang the runner.
    pool: 'forks',
    reporters: ['default'],
  },
});
