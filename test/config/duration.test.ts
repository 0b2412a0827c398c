// Durations and sizes as the config writes them.

import t from 'tap';
import { DurationSyntaxError, formatDuration, parseDuration } from '../../src/config/duration.js';
import { formatSize, parseSize, SizeSyntaxError } from '../../src/config/size.js';

t.test('plain seconds', async (t) => {
  t.equal(parseDuration(30), 30);
  t.equal(parseDuration('30'), 30);
  t.equal(parseDuration(0), 0);
  t.equal(parseDuration('1.5'), 1.5);
  t.equal(parseDuration(' 45 '), 45);
});

t.test('units and combinations', async (t) => {
  t.equal(parseDuration('30s'), 30);
  t.equal(parseDuration('5m'), 300);
  t.equal(parseDuration('2h'), 7200);
  t.equal(parseDuration('1d'), 86400);
  t.equal(parseDuration('1w'), 604800);
  t.equal(parseDuration('1h30m'), 5400);
  t.equal(parseDuration('1w2d3h4m5s'), 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
  t.equal(parseDuration('1h 30m'), 5400);
  t.equal(parseDuration('500ms'), 0.5);
  t.equal(parseDuration('1s100ms'), 1.1);
  t.equal(parseDuration('0.5h'), 1800);
});

t.test('rejects what is not a duration', async (t) => {
  for (const bad of ['', 'x', '5x', '-5', '5 m s', '1m1m', '30s1h', 'm', '1M', '1.s', '1e3', '5mm']) {
    t.throws(() => parseDuration(bad), DurationSyntaxError, JSON.stringify(bad));
  }
  t.throws(() => parseDuration(-1), DurationSyntaxError);
  t.throws(() => parseDuration(Infinity), DurationSyntaxError);
  t.throws(() => parseDuration(NaN), DurationSyntaxError);
  try {
    parseDuration('5x');
  } catch (err) {
    t.match((err as Error).message, /bad duration "5x".*30s, 5m/);
    t.equal((err as DurationSyntaxError).code, 'ERR_DURATION_SYNTAX');
  }
});

t.test('formatDuration is the shortest spelling and round-trips', async (t) => {
  t.equal(formatDuration(0), '0s');
  t.equal(formatDuration(5400), '1h30m');
  t.equal(formatDuration(2419200), '4w');
  t.equal(formatDuration(0.25), '250ms');
  t.equal(formatDuration(90061), '1d1h1m1s');
  for (const s of [1, 59, 60, 61, 3599, 86401, 1209600, 4294967295, 1.5]) t.equal(parseDuration(formatDuration(s)), s, String(s));
});

t.test('sizes', async (t) => {
  t.equal(parseSize(1024), 1024);
  t.equal(parseSize('1024'), 1024);
  t.equal(parseSize('512k'), 512 * 1024);
  t.equal(parseSize('512K'), 512 * 1024);
  t.equal(parseSize('64M'), 64 * 2 ** 20);
  t.equal(parseSize('64MB'), 64 * 2 ** 20);
  t.equal(parseSize('2GiB'), 2 ** 31);
  t.equal(parseSize('1T'), 2 ** 40);
  t.equal(parseSize('100B'), 100);
  for (const bad of ['', 'x', '1X', '-1', '1.5G', 'G', '99999999999T']) t.throws(() => parseSize(bad), SizeSyntaxError, bad);
  t.throws(() => parseSize(1.5), SizeSyntaxError);
  t.equal(formatSize(2 ** 31), '2GiB');
  t.equal(formatSize(1536), '1536');
  t.equal(formatSize(1024), '1KiB');
  t.equal(formatSize(0), '0');
});
