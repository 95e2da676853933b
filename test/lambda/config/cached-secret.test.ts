import { CachedConfigSource } from '../../../lambda/config/cached-config-source';
import { CachedSecret } from '../../../lambda/config/cached-secret';
import { ConfigError, SecretNotSetError } from '../../../lambda/core/errors';
import { testConfig } from '../support/configs';
import { InMemoryConfigSource, InMemorySecretSource, ManualClock } from '../support/in-memory-ports';

describe('the cached webhook secret', () => {
  test('is read once while fresh', async () => {
    const source = new InMemorySecretSource('s1');
    const secret = new CachedSecret(source, new ManualClock());

    expect(await secret.get()).toBe('s1');
    expect(await secret.get()).toBe('s1');
    expect(await secret.reloadIfStale()).toBe(false);
    expect(source.reads).toBe(1);
  });

  test('is re-read on request once older than five minutes, and only then', async () => {
    const source = new InMemorySecretSource('s1');
    const clock = new ManualClock();
    const secret = new CachedSecret(source, clock);
    await secret.get();
    source.secret = 's2';

    clock.advance(5 * 60 * 1000);
    expect(await secret.reloadIfStale()).toBe(false);
    clock.advance(1);
    expect(await secret.reloadIfStale()).toBe(true);

    expect(await secret.get()).toBe('s2');
    expect(source.reads).toBe(2);
  });

  test('a secret not yet set is reported each time, not cached', async () => {
    const source = new InMemorySecretSource(undefined);
    const secret = new CachedSecret(source, new ManualClock());

    await expect(secret.get()).rejects.toBeInstanceOf(SecretNotSetError);
    source.secret = 'set now';
    expect(await secret.get()).toBe('set now');
  });
});

describe('the cached config source', () => {
  test('reads the configs once', async () => {
    const source = new InMemoryConfigSource([testConfig('a', ['a'])]);
    const cached = new CachedConfigSource(source);

    await cached.loadConfigs();
    await cached.loadConfigs();

    expect(source.loads).toBe(1);
  });

  test('a failed read is not cached', async () => {
    const source = new InMemoryConfigSource([testConfig('a', ['a'])], new ConfigError('broken'));
    const cached = new CachedConfigSource(source);

    await expect(cached.loadConfigs()).rejects.toBeInstanceOf(ConfigError);
    source.failure = undefined;

    expect((await cached.loadConfigs()).map((c) => c.name)).toEqual(['a']);
  });
});
