/**
 * What a Lambda bundle has in place of `native-file-client.ts` (aliased by
 * infra/lambda-resolve.mjs): no native driver, so opening a file fails as the
 * web client does for a `file:` URL, and the database must be a libSQL server.
 */
export class NativeFileClient {
  constructor() {
    throw Object.assign(
      new Error(
        'a file database needs the native libSQL driver, which a Lambda bundle does not carry',
      ),
      { code: 'URL_SCHEME_NOT_SUPPORTED' },
    );
  }
}
