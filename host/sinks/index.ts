/**
 * Builds the sinks of a config: file and stdout deliver directly; every
 * network sink gets its own disk spool (DATADIR/spool/NAME) and dead-letter
 * file (DATADIR/dead-letter/NAME.ndjson), NAME being the sink's `name` or
 * TYPE-INDEX.
 */
import { join } from 'node:path';
import type { SinkConfig } from '../config/settings.js';
import type { Logger } from '../log.js';
import { DiskSpool } from '../spool/spool.js';
import type { NetworkSinkCommon } from './common/config.js';
import { DeadLetterFile } from './dead-letter.js';
import { SinkDriver } from './driver.js';
import { ElasticsearchService } from './elasticsearch/service.js';
import { FileService } from './file/service.js';
import { FluentForwardService } from './fluent-forward/service.js';
import { HttpService } from './http/service.js';
import type { SinkService } from './sink.js';
import { StdoutService } from './stdout/service.js';
import { SyslogService } from './syslog/service.js';

/** What building a sink needs besides its settings. */
export interface SinkContext {
  /** The agent's data directory (spools and dead letters live under it). */
  dataDir: string;
  log: Logger;
}

const MB = 1024 * 1024;

/** The spool directory name of a network sink. */
export function sinkId(config: SinkConfig & Partial<NetworkSinkCommon>, index: number): string {
  return config.name ?? `${config.type}-${index}`;
}

/** Builds the driver of sink `index` of the config. Throws catalogued errors (files, TLS, spool). */
export function createSink(config: SinkConfig, index: number, ctx: SinkContext): SinkDriver {
  switch (config.type) {
    case 'file':
      return direct(new FileService(config), ctx);
    case 'stdout':
      return direct(new StdoutService(), ctx);
    case 'elasticsearch':
      return spooled(new ElasticsearchService(config), config, index, ctx);
    case 'fluent-forward':
      return spooled(new FluentForwardService(config), config, index, ctx);
    case 'http':
      return spooled(new HttpService(config), config, index, ctx);
    case 'syslog':
      return spooled(new SyslogService(config), config, index, ctx);
  }
}

function direct(service: SinkService, ctx: SinkContext): SinkDriver {
  return new SinkDriver(service, { batchMaxItems: 10_000, batchMaxBytes: 16 * MB, retryInitialMs: 0, retryMaxMs: 0, flushTimeoutMs: 0, log: ctx.log });
}

function spooled(service: SinkService, config: SinkConfig & NetworkSinkCommon, index: number, ctx: SinkContext): SinkDriver {
  const id = sinkId(config, index);
  const spool = DiskSpool.open({ dir: config.spool.dir ?? join(ctx.dataDir, 'spool', id), maxBytes: config.spool.maxSizeMB * MB, whenFull: config.spool.whenFull, fsync: config.spool.fsync });
  return new SinkDriver(service, {
    batchMaxItems: config.batchMaxRecords,
    batchMaxBytes: config.batchMaxKB * 1024,
    retryInitialMs: config.retryInitial,
    retryMaxMs: config.retryMax,
    flushTimeoutMs: config.flushTimeout,
    spool,
    deadLetter: new DeadLetterFile(join(ctx.dataDir, 'dead-letter', `${id}.ndjson`)),
    log: ctx.log,
  });
}
