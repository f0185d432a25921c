// The test environment in one import: a real control plane, PostgreSQL with pgvector, S3 servers and
// the CLI tools, each on loopback, on free ports, in temporary directories.
export * from './process.ts';
export * from './postgres.ts';
export * from './s3.ts';
export * from './tools.ts';
export * from './kube.ts';
export * from './tcp-proxy.ts';
