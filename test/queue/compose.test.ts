// docker-compose.yml validates (offline, with `docker-compose config`) and declares the services
// a queue deployment needs, each with a health check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../helpers.js';

const compose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const missing = compose.error ? 'docker-compose is not installed' : false;

function config(...args: string[]): string {
  const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', ...args], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('docker-compose.yml validates, with redis, worker and scheduler services, health checks and volumes', { skip: missing }, () => {
  config('-q');
  assert.deepEqual(config('--services').trim().split('\n').sort(), ['redis', 'scheduler', 'worker']);
  assert.deepEqual(config('--volumes').trim().split('\n'), ['redis-data']);
  const rendered = config();
  assert.equal(rendered.match(/^ {4}healthcheck:$/gm)?.length, 3, 'every service has a health check');
  assert.match(rendered, /- \.?\/?.*datasets:\/app\/datasets/);
  assert.match(rendered, /runs:\/app\/runs:rw/);
  assert.match(rendered, /REDIS_URL: redis:\/\/redis:6379/);
});
