import { defineConfig } from 'vitest/config';

const IMAGES = 'test/integration/function-images.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: [IMAGES],
          sequence: { groupOrder: 1 },
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          // Each file starts real servers and processes; two cores do not gain from more.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // The function images' containers alone, after the rest: beside the timing-sensitive
          // files (a replica replaced within seconds) they starved them of CPU.
          name: 'images',
          include: [IMAGES],
          sequence: { groupOrder: 2 },
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
