import type { CodegenConfig } from '@graphql-codegen/cli';

/** GraphQL Code Generator, client preset, with the schema introspected from the gateway. */
export function exchangeCodegen(opts: { url: string; token: string; documents: string[]; output: string }): CodegenConfig {
  return {
    schema: [{ [opts.url]: { headers: { authorization: `Bearer ${opts.token}` } } }],
    documents: opts.documents,
    generates: {
      [opts.output]: {
        preset: 'client',
        // The exchange's custom scalars are 18-character strings (GB 32100 / GB 11643).
        config: { scalars: { USCC: 'string', IDNumber: 'string' }, enumsAsTypes: true },
      },
    },
  };
}
// codegen.ts: export default exchangeCodegen({ url: 'http://127.0.0.1:4000/graphql',
//   token: process.env.EXCHANGE_TOKEN ?? '', documents: ['src/**/*.graphql'], output: './src/gql/' });
