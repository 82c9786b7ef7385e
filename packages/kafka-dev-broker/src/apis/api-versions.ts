/**
 * ApiVersions v0–v2. Only non-flexible versions are advertised, so every client negotiates down to request
 * and response layouts without tagged fields. A client that opens with a newer ApiVersions (librdkafka sends
 * v3) gets what KIP-511 prescribes: UNSUPPORTED_VERSION in the v0 response layout, still listing the
 * supported versions, and then retries with the highest ApiVersions version listed.
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';
import { finishFrame, responseFrame, type Writer } from '../protocol/writer.ts';

function writeVersions(w: Writer, handlers: readonly Pick<ApiHandler, 'key' | 'minVersion' | 'maxVersion'>[]): void {
  w.array(handlers, (w, h) => w.int16(h.key).int16(h.minVersion).int16(h.maxVersion));
}

export const API_VERSIONS_RANGE = { key: ApiKey.ApiVersions, minVersion: 0, maxVersion: 2 } as const;

export function apiVersionsHandler(others: readonly ApiHandler[]): ApiHandler {
  const advertised = [API_VERSIONS_RANGE, ...others].sort((a, b) => a.key - b.key);
  return {
    ...API_VERSIONS_RANGE,
    name: 'ApiVersions',
    handle(ctx: RequestContext) {
      return respond(ctx, (w) => {
        w.int16(ErrorCode.NONE);
        writeVersions(w, advertised);
        if (ctx.apiVersion >= 1) w.int32(NO_THROTTLE);
      });
    },
  };
}

export function unsupportedApiVersionsResponse(correlationId: number, handlers: readonly ApiHandler[]): Buffer {
  const w = responseFrame(correlationId);
  w.int16(ErrorCode.UNSUPPORTED_VERSION);
  writeVersions(
    w,
    [...handlers].sort((a, b) => a.key - b.key),
  );
  return finishFrame(w);
}
