// The sample manifests under manifests/samples, parsed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const samplesDir = join(import.meta.dirname, '../../manifests/samples');

export interface SampleObject {
  file: string;
  object: { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
}

export function sampleFiles(): string[] {
  return readdirSync(samplesDir)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

export function loadSample(file: string): SampleObject[] {
  return parseAllDocuments(readFileSync(join(samplesDir, file), 'utf8')).map((doc) => ({
    file,
    object: doc.toJS() as SampleObject['object'],
  }));
}

export function allSampleObjects(): SampleObject[] {
  return sampleFiles().flatMap(loadSample);
}
