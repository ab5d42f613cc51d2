import { readFileSync } from 'node:fs';

// The version in package.json, read once; reports and the audit log record it.
function readVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

export const TOOL_VERSION: string = readVersion();
