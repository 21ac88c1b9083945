// Entry of the training worker threads: registers tsx (the sources are TypeScript, run without a
// build step, as bin/armbridge.js does for the CLI), then imports the worker module named in
// workerData. (control/ has its own copy: learn/ and control/ do not import each other.)
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
