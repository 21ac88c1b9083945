/**
 * Where a model is named on the command line, its folder (what `armbridge train` writes) and its
 * `policy.onnx` both work: `modelFile` gives the file, `modelFolder` the folder.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const MODEL_FILE = 'policy.onnx';

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The model file: `path` itself, or `path/policy.onnx` when `path` is a folder that has one. */
export function modelFile(path: string): string {
  if (isDirectory(path) && existsSync(join(path, MODEL_FILE))) return join(path, MODEL_FILE);
  return path;
}

/** The model folder: `path` itself, or the folder of `path` when it names an .onnx file. */
export function modelFolder(path: string): string {
  return !isDirectory(path) && basename(path).endsWith('.onnx') ? dirname(path) : path;
}
