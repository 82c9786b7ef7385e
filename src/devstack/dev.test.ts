import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserCommand, parseDevArgs } from './dev.ts';

test('make dev opens the shop only for a person at a terminal with a desktop', () => {
  assert.equal(browserCommand({ DISPLAY: ':0' }, 'linux', true), 'xdg-open');
  assert.equal(browserCommand({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux', true), 'xdg-open');
  assert.equal(browserCommand({}, 'darwin', true), 'open');
  assert.equal(browserCommand({ WSL_DISTRO_NAME: 'Debian' }, 'linux', true), 'wslview');
  assert.equal(browserCommand({ DISPLAY: ':0', BROWSER: 'firefox' }, 'linux', true), 'firefox');
  assert.equal(browserCommand({}, 'linux', true), undefined, 'a server without a display has no browser to open');
  assert.equal(browserCommand({ DISPLAY: ':0' }, 'linux', false), undefined, 'not on a terminal (a script, a test)');
  assert.equal(browserCommand({ DISPLAY: ':0', CI: 'true' }, 'linux', true), undefined);
  assert.equal(browserCommand({ DISPLAY: ':0', BROWSER: 'none' }, 'darwin', true), undefined);
  assert.equal(parseDevArgs(['--no-browser'])['no-browser'], true);
  assert.equal(parseDevArgs([])['no-browser'], false);
});
