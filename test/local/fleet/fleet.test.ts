import { afterEach, describe, expect, it } from 'vitest';
import { type FleetHandle, fleetOptionsFromEnv, startFleet } from '../../../local/fleet/fleet';
import { countTokens, generateAnswerTokens, keywords } from '../../../local/fleet/text';

const fleets: FleetHandle[] = [];
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});

describe('startFleet', () => {
  it('starts numbered servers on their own loopback ports, each answering chat completions', async () => {
    const fleet = await startFleet({
      count: 3,
      timeToFirstTokenMs: 0,
      tokensPerSecond: 5000,
      answerTokens: 4,
      perServer: [undefined, { answerTokens: 7 }],
    });
    fleets.push(fleet);
    expect(fleet.servers.map((server) => server.id)).toEqual(['gpu-1', 'gpu-2', 'gpu-3']);
    for (const server of fleet.servers) expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set(fleet.servers.map((server) => server.baseUrl)).size).toBe(3);

    const usages: number[] = [];
    for (const server of fleet.servers) {
      const response = await fetch(`${server.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'local-llm', messages: [{ role: 'user', content: 'hello fleet' }] }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-inference-server')).toBe(server.id);
      usages.push(
        ((await response.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens,
      );
      expect(server.handle.stats()).toMatchObject({ id: server.id, completed: 1 });
    }
    expect(usages).toEqual([4, 7, 4]);

    await fleet.close();
    for (const server of fleet.servers) expect(server.handle.stats().listening).toBe(false);
    await expect(fetch(`${fleet.servers[0]?.baseUrl}/health`)).rejects.toThrow();
  });

  it('starts 3 servers by default and rejects a bad count', async () => {
    const fleet = await startFleet({ timeToFirstTokenMs: 0 });
    fleets.push(fleet);
    expect(fleet.servers.length).toBe(3);
    expect(fleet.servers[0]?.handle.options()).toMatchObject({
      slots: 8,
      tokensPerSecond: 50,
      answerTokens: 200,
    });
    await expect(startFleet({ count: 0 })).rejects.toThrow(/count/);
  });
});

describe('fleetOptionsFromEnv', () => {
  it('has the documented defaults and an unlimited queue when LOCAL_FLEET_MAX_QUEUE is unset or empty', () => {
    const defaults = { count: 3, slots: 8, tokensPerSecond: 50, answerTokens: 200, timeToFirstTokenMs: 150 };
    expect(fleetOptionsFromEnv({})).toEqual(defaults);
    expect(fleetOptionsFromEnv({ LOCAL_FLEET_MAX_QUEUE: '' })).toEqual(defaults);
  });

  it('reads every variable', () => {
    expect(
      fleetOptionsFromEnv({
        LOCAL_FLEET_SERVERS: '2',
        LOCAL_FLEET_SLOTS: '4',
        LOCAL_FLEET_TOKENS_PER_SECOND: '12.5',
        LOCAL_FLEET_ANSWER_TOKENS: '64',
        LOCAL_FLEET_TTFT_MS: '0',
        LOCAL_FLEET_MAX_QUEUE: '0',
      }),
    ).toEqual({
      count: 2,
      slots: 4,
      tokensPerSecond: 12.5,
      answerTokens: 64,
      timeToFirstTokenMs: 0,
      maxQueue: 0,
    });
  });

  it.each([
    ['LOCAL_FLEET_SERVERS', '0'],
    ['LOCAL_FLEET_SERVERS', 'three'],
    ['LOCAL_FLEET_SLOTS', '1.5'],
    ['LOCAL_FLEET_TOKENS_PER_SECOND', '0'],
    ['LOCAL_FLEET_ANSWER_TOKENS', '10x'],
    ['LOCAL_FLEET_TTFT_MS', '-1'],
    ['LOCAL_FLEET_MAX_QUEUE', 'Infinity'],
  ])('throws an error naming %s when it is %j', (name, value) => {
    expect(() => fleetOptionsFromEnv({ [name]: value })).toThrow(new RegExp(`^${name} must be`));
  });
});

describe('answer text', () => {
  const prompt = 'Explain how photosynthesis converts sunlight into chemical energy';

  it('is exactly the requested number of tokens, reuses key words and is deterministic per seed', () => {
    const tokens = generateAnswerTokens(prompt, 120, 7);
    expect(tokens.length).toBe(120);
    expect(tokens[0]).toMatch(/^\S/);
    expect(tokens.slice(1).every((token) => /^\s+\S+$/.test(token))).toBe(true);
    const text = tokens.join('');
    expect(text).toMatch(/photosynthesis|sunlight|chemical|energy/);
    expect(text.endsWith('.')).toBe(true);
    expect(generateAnswerTokens(prompt, 120, 7)).toEqual(tokens);
    expect(generateAnswerTokens(prompt, 120, 8).join('')).not.toBe(text);
  });

  it('finds key words and counts tokens', () => {
    expect(keywords(prompt)).toEqual(['photosynthesis', 'converts', 'sunlight', 'chemical', 'energy']);
    expect(generateAnswerTokens('', 5).length).toBe(5);
    expect(countTokens('Hello, world!')).toBe(4);
  });

  it('writes markdown when the prompt asks for code, a table or a list, deterministically', () => {
    // Prepare
    const prompt = 'Show me a table and some python code about caching';

    // Act
    const text = generateAnswerTokens(prompt, 60).join('');

    // Assess
    expect(generateAnswerTokens(prompt, 60).join('')).toBe(text);
    expect(text).toMatch(/^## Caching\n/);
    expect(text).toContain('| Option | Effort | Time | Recommended |\n| :--- | :---: | ---: | :---: |');
    expect(text).toMatch(/```python\n[\s\S]+\n```/);
    expect(text).toMatch(/\[the caching guide\]\(https:\/\/example\.com\/guides\/caching\)/);
    expect(text.endsWith('.')).toBe(true);
    // Code keeps its indentation: tokens carry the whitespace before them.
    expect(text).toContain('\n    counts = Counter(items)');
  });

  it('writes nested and task lists, every language a prompt names, and prose otherwise', () => {
    const list = generateAnswerTokens('Give me a checklist for moving house', 60).join('');
    expect(list).toMatch(/\n {3}- write down/);
    expect(list).toContain('- [x] Outline');
    expect(list).toContain('~~Guess~~');
    const code = generateAnswerTokens('Compare bash and sql for counting rows', 60).join('');
    expect(code).toContain('```bash\n');
    expect(code).toContain('```sql\n');
    expect(generateAnswerTokens('Tell me about rivers and mountains', 60).join('')).not.toMatch(/[#|`]/);
    expect(generateAnswerTokens('Tell me about rivers and mountains', 60).length).toBe(60);
  });
});
