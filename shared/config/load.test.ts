// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold ${VAR} references on purpose
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeConfig } from '#test/support/temp.ts';
import { UserFacingError } from '../errors.ts';
import { ConfigError } from './issues.ts';
import { loadConfig, parseConfig, readConfigText } from './load.ts';
import { CONFIG_FILE_NAME } from './locate.ts';

const VALID = `services:
  qaagent:
    name: QA Agent
    url: \${QA_URL:-http://localhost:8080}
workflows:
  smoke:
    name: Smoke
    steps:
      - type: discover
        service: qaagent
`;

/** Whether a `.aegis.yaml` sits above `dir`, where the search would find it. */
function strayConfigAbove(dir: string): boolean {
  const parent = dirname(dir);
  return existsSync(join(parent, CONFIG_FILE_NAME)) || (parent !== dir && strayConfigAbove(parent));
}

describe('loadConfig', () => {
  it('finds, interpolates and validates the nearest .aegis.yaml', () => {
    // Prepare
    const dir = tempDir();
    const path = writeConfig(VALID, dir);
    const cwd = join(dir, 'src');
    mkdirSync(cwd);

    // Act
    const loaded = loadConfig({ env: { QA_URL: 'http://qa.test' }, cwd });

    // Assess
    expect(loaded.source).toBe(path);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.services.qaagent?.url).toBe('http://qa.test');
    expect(Object.keys(loaded.config.workflows)).toEqual(['smoke']);
  });

  it('throws a ConfigError listing every error, one line each, with file, line and column', () => {
    // Prepare
    const path = writeConfig(
      'auth:\n  api_key: ${AEGIS_API_KEY}\nevent_log_size: 0\nservcies: {}\n',
    );

    // Act
    const load = () => loadConfig({ explicitPath: path, env: {}, cwd: dirname(path) });

    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      [
        'invalid configuration (3 errors):',
        `  ${path}:2:12: auth.api_key: environment variable AEGIS_API_KEY is not set`,
        `  ${path}:3:17: event_log_size: must be ≥ 1 (got 0)`,
        `  ${path}:4:1: servcies: unknown key (did you mean "services"?)`,
      ].join('\n'),
    );
  });

  it('passes the warnings on with the configuration', () => {
    // Prepare
    const path = writeConfig('auth:\n  api_key: ${AEGIS_API_KEY:-}\n');

    // Act
    const loaded = loadConfig({ explicitPath: path, env: {}, cwd: dirname(path) });

    // Assess
    expect(loaded.config.auth.api_key).toBe('');
    expect(loaded.warnings).toEqual([
      expect.objectContaining({
        path: 'auth.api_key',
        message: 'came out empty from its environment variable: authentication is off',
      }),
    ]);
  });

  describe('with no file found', () => {
    it('is an error saying where it looked', ({ skip }) => {
      // Prepare
      const cwd = tempDir();
      if (strayConfigAbove(cwd)) skip('a .aegis.yaml above the temp directory would be found');

      // Act
      const load = () => loadConfig({ env: {}, cwd });

      // Assess
      expect(load).toThrow(UserFacingError);
      expect(load).toThrow(
        `no .aegis.yaml found in ${cwd} or any parent directory; pass --config FILE or set AEGIS_CONFIG`,
      );
    });

    it('starts on the built-in defaults with a warning when allowed (serve, invoke)', ({
      skip,
    }) => {
      // Prepare
      const cwd = tempDir();
      if (strayConfigAbove(cwd)) skip('a .aegis.yaml above the temp directory would be found');

      // Act
      const loaded = loadConfig({ env: {}, cwd, allowDefaults: true });

      // Assess
      expect(loaded.source).toBeNull();
      expect(loaded.config).toMatchObject({
        services: {},
        workflows: {},
        history_db_path: join(cwd, 'aegis_history.db'),
      });
      expect(loaded.warnings.map((w) => w.message)).toEqual([
        `no .aegis.yaml found in ${cwd} or any parent directory; pass --config FILE or set AEGIS_CONFIG: using built-in defaults`,
      ]);
    });

    it('still fails for a named file that does not exist, even when defaults are allowed', () => {
      // Prepare
      const cwd = tempDir();

      // Act
      const load = () =>
        loadConfig({ env: { AEGIS_CONFIG: 'gone.yaml' }, cwd, allowDefaults: true });

      // Assess
      expect(load).toThrow(
        `config file not found: ${join(cwd, 'gone.yaml')} (named by AEGIS_CONFIG)`,
      );
    });
  });

  it('fails clearly when the named config path is a directory', () => {
    // Prepare
    const cwd = tempDir();
    mkdirSync(join(cwd, 'conf'));

    // Act
    const load = () => loadConfig({ explicitPath: 'conf', env: {}, cwd });

    // Assess
    expect(load).toThrow(
      `config file ${join(cwd, 'conf')} (named by --config) is a directory: name the YAML file in it`,
    );
  });

  describe('the history database path', () => {
    it('resolves a relative history_db_path against the config file, not the working directory', () => {
      // Prepare
      const dir = tempDir();
      writeConfig('history_db_path: data/history.db\n', dir);
      const cwd = join(dir, 'deep', 'er');
      mkdirSync(cwd, { recursive: true });

      // Act
      const loaded = loadConfig({ env: {}, cwd });

      // Assess
      expect(loaded.config.history_db_path).toBe(join(dir, 'data', 'history.db'));
    });

    it.each([
      { yaml: '', expected: (dir: string) => join(dir, 'aegis_history.db') },
      { yaml: 'history_db_path: ../h.db\n', expected: (dir: string) => join(dirname(dir), 'h.db') },
      { yaml: 'history_db_path: /var/lib/aegis/h.db\n', expected: () => '/var/lib/aegis/h.db' },
    ])('resolves $yaml', ({ yaml, expected }) => {
      // Prepare
      const dir = tempDir();
      const path = writeConfig(yaml, dir);

      // Act
      const loaded = loadConfig({ explicitPath: path, env: {}, cwd: tempDir() });

      // Assess
      expect(loaded.config.history_db_path).toBe(expected(dir));
    });

    it.each([
      { override: '/srv/aegis/override.db', expected: () => '/srv/aegis/override.db' },
      { override: 'rel/override.db', expected: (cwd: string) => join(cwd, 'rel', 'override.db') },
    ])(
      'takes AEGIS_DB_PATH=$override over history_db_path (relative to the working directory)',
      ({ override, expected }) => {
        // Prepare
        const path = writeConfig('history_db_path: from-file.db\n');
        const cwd = tempDir();

        // Act
        const loaded = loadConfig({ explicitPath: path, env: { AEGIS_DB_PATH: override }, cwd });

        // Assess
        expect(loaded.config.history_db_path).toBe(expected(cwd));
      },
    );

    it('ignores an empty AEGIS_DB_PATH', () => {
      // Prepare
      const dir = tempDir();
      const path = writeConfig('history_db_path: from-file.db\n', dir);

      // Act
      const loaded = loadConfig({ explicitPath: path, env: { AEGIS_DB_PATH: '' }, cwd: tempDir() });

      // Assess
      expect(loaded.config.history_db_path).toBe(join(dir, 'from-file.db'));
    });

    it('applies AEGIS_DB_PATH to the built-in defaults too', ({ skip }) => {
      // Prepare
      const cwd = tempDir();
      if (strayConfigAbove(cwd)) skip('a .aegis.yaml above the temp directory would be found');

      // Act
      const loaded = loadConfig({
        env: { AEGIS_DB_PATH: '/tmp/aegis-override.db' },
        cwd,
        allowDefaults: true,
      });

      // Assess
      expect(loaded.config.history_db_path).toBe('/tmp/aegis-override.db');
    });
  });
});

describe('parseConfig', () => {
  it('names the text <config> in its errors when it has no file', () => {
    // Act
    const parse = () => parseConfig('event_log_size: 0\n', null, {}, tempDir());

    // Assess
    expect(parse).toThrow(
      'invalid configuration (1 error):\n  <config>:1:17: event_log_size: must be ≥ 1 (got 0)',
    );
  });

  it('resolves a relative history_db_path against the working directory when it has no file', () => {
    // Prepare
    const cwd = tempDir();

    // Act
    const { config } = parseConfig('history_db_path: h.db\n', null, {}, cwd);

    // Assess
    expect(config.history_db_path).toBe(join(cwd, 'h.db'));
  });
});

describe('readConfigText', () => {
  it('says a directory is a directory', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const read = () => readConfigText(dir);

    // Assess
    expect(read).toThrow(new UserFacingError(`cannot read config file ${dir}: it is a directory`));
  });

  it('names the file it cannot read', () => {
    // Prepare
    const path = join(tempDir(), 'missing.yaml');

    // Act
    const read = () => readConfigText(path);

    // Assess
    expect(read).toThrow(UserFacingError);
    expect(read).toThrow(`cannot read config file ${path}: ENOENT`);
  });
});
