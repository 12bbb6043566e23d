import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/temp.ts';
import { UserFacingError } from '../errors.ts';
import { CONFIG_FILE_NAME, describeSearch, locateConfig } from './locate.ts';

/** A directory holding `.aegis.yaml`, `option.yaml` and `env.yaml`, each a candidate. */
function projectWithEveryCandidate(): string {
  const dir = tempDir();
  for (const name of [CONFIG_FILE_NAME, 'option.yaml', 'env.yaml'])
    writeFileSync(join(dir, name), '');
  return dir;
}

/** Whether a `.aegis.yaml` sits above `dir`, where the search would find it. */
function strayConfigAbove(dir: string): boolean {
  const parent = dirname(dir);
  return existsSync(join(parent, CONFIG_FILE_NAME)) || (parent !== dir && strayConfigAbove(parent));
}

describe('locateConfig', () => {
  describe('discovery order', () => {
    it('takes --config over AEGIS_CONFIG and the search', () => {
      // Prepare
      const dir = projectWithEveryCandidate();

      // Act
      const location = locateConfig({
        explicitPath: 'option.yaml',
        env: { AEGIS_CONFIG: 'env.yaml' },
        cwd: dir,
      });

      // Assess
      expect(location).toEqual({ path: join(dir, 'option.yaml'), origin: 'option', searched: [] });
    });

    it('takes AEGIS_CONFIG over the search', () => {
      // Prepare
      const dir = projectWithEveryCandidate();

      // Act
      const location = locateConfig({ env: { AEGIS_CONFIG: 'env.yaml' }, cwd: dir });

      // Assess
      expect(location).toEqual({
        path: join(dir, 'env.yaml'),
        origin: 'environment',
        searched: [],
      });
    });

    it('searches when AEGIS_CONFIG is empty, as if it were unset', () => {
      // Prepare
      const dir = projectWithEveryCandidate();

      // Act
      const location = locateConfig({ env: { AEGIS_CONFIG: '' }, cwd: dir });

      // Assess
      expect(location).toMatchObject({ path: join(dir, CONFIG_FILE_NAME), origin: 'search' });
    });

    it('takes an absolute --config as it is, whatever the working directory', () => {
      // Prepare
      const dir = projectWithEveryCandidate();

      // Act
      const location = locateConfig({
        explicitPath: join(dir, 'option.yaml'),
        env: {},
        cwd: tempDir(),
      });

      // Assess
      expect(location.path).toBe(join(dir, 'option.yaml'));
    });
  });

  describe('the upward search', () => {
    it('finds .aegis.yaml in the current directory', () => {
      // Prepare
      const dir = projectWithEveryCandidate();

      // Act
      const location = locateConfig({ env: {}, cwd: dir });

      // Assess
      expect(location).toEqual({
        path: join(dir, CONFIG_FILE_NAME),
        origin: 'search',
        searched: [dir],
      });
    });

    it('finds the nearest .aegis.yaml above, not one further up', () => {
      // Prepare
      const root = tempDir();
      const project = join(root, 'project');
      const deep = join(project, 'src', 'deep');
      mkdirSync(deep, { recursive: true });
      writeFileSync(join(root, CONFIG_FILE_NAME), '');
      writeFileSync(join(project, CONFIG_FILE_NAME), '');

      // Act
      const location = locateConfig({ env: {}, cwd: deep });

      // Assess
      expect(location).toEqual({
        path: join(project, CONFIG_FILE_NAME),
        origin: 'search',
        searched: [deep, join(project, 'src'), project],
      });
    });

    it('passes over a directory named .aegis.yaml', () => {
      // Prepare
      const root = tempDir();
      const sub = join(root, 'sub');
      mkdirSync(join(sub, CONFIG_FILE_NAME), { recursive: true });
      writeFileSync(join(root, CONFIG_FILE_NAME), '');

      // Act
      const location = locateConfig({ env: {}, cwd: sub });

      // Assess
      expect(location.path).toBe(join(root, CONFIG_FILE_NAME));
    });

    it('finds nothing when no directory up to the root holds one, listing where it looked', ({
      skip,
    }) => {
      // Prepare
      const dir = join(tempDir(), 'a', 'b');
      mkdirSync(dir, { recursive: true });
      if (strayConfigAbove(dir)) skip('a .aegis.yaml above the temp directory would be found');

      // Act
      const location = locateConfig({ env: {}, cwd: dir });

      // Assess
      expect(location.path).toBeNull();
      expect(location.origin).toBe('none');
      expect(location.searched[0]).toBe(dir);
      expect(location.searched.at(-1)).toBe(parse(dir).root);
      expect(describeSearch(location)).toBe(
        `no .aegis.yaml found in ${dir} or any parent directory; pass --config FILE or set AEGIS_CONFIG`,
      );
    });
  });

  describe.each([
    {
      origin: '--config',
      options: { explicitPath: 'missing.yaml', env: { AEGIS_CONFIG: 'env.yaml' } },
    },
    {
      origin: '--path',
      options: { explicitPath: 'missing.yaml', explicitOption: '--path', env: {} },
    },
    { origin: 'AEGIS_CONFIG', options: { env: { AEGIS_CONFIG: 'missing.yaml' } } },
  ])('a file named by $origin', ({ origin, options }) => {
    it('that does not exist is an error naming the path and where it was named, even with .aegis.yaml at hand', () => {
      // Prepare
      const dir = projectWithEveryCandidate();

      // Act
      const locate = () => locateConfig({ ...options, cwd: dir });

      // Assess
      expect(locate).toThrow(UserFacingError);
      expect(locate).toThrow(
        `config file not found: ${join(dir, 'missing.yaml')} (named by ${origin})`,
      );
    });

    it('that is a directory is an error saying so', () => {
      // Prepare
      const dir = projectWithEveryCandidate();
      mkdirSync(join(dir, 'missing.yaml'));

      // Act
      const locate = () => locateConfig({ ...options, cwd: dir });

      // Assess
      expect(locate).toThrow(
        `config file ${join(dir, 'missing.yaml')} (named by ${origin}) is a directory: name the YAML file in it`,
      );
    });
  });
});
