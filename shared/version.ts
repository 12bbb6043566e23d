import packageJson from '../package.json' with { type: 'json' };

/** The package's version: what `/health` reports and what `User-Agent` carries. */
export const PACKAGE_VERSION: string = packageJson.version;
