import { Pool } from 'undici';
import { tlsOptions, type TlsConfig } from './config.js';

/** Settings an HTTP-based sink's connection pool takes from its config. */
export interface PoolSettings {
  connections: number;
  /** Request timeout, ms (headers and body; connect is capped at 10 s). */
  timeout: number;
  tls?: TlsConfig;
}

/** The keep-alive connection pool of an HTTP-based sink (elasticsearch, http). */
export function keepAlivePool(origin: string, sinkName: string, s: PoolSettings): Pool {
  return new Pool(origin, {
    connections: s.connections,
    keepAliveTimeout: 30_000,
    headersTimeout: s.timeout,
    bodyTimeout: s.timeout,
    connect: { ...tlsOptions(sinkName, s.tls), timeout: Math.min(s.timeout, 10_000) },
  });
}
