import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_TYPES, type ErrorType } from '@dl/shared';

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** What Node's parser rejected, as an error type of the shared table. */
function describe(err: NodeJS.ErrnoException): { type: ErrorType; message: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return { type: 'headers_too_large', message: 'the request line or headers are too large' };
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { type: 'request_timeout', message: 'the request took too long to arrive' };
  return { type: 'invalid_request', message: 'the request is not valid HTTP' };
}

/**
 * Requests Node rejects before the app sees them (a 100 kB URL, oversized headers, a NUL byte, a bad
 * request line) get the same JSON error as every other failure, instead of Node's empty body.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { type, message } = describe(err);
    const status = ERROR_TYPES[type].status;
    const body = JSON.stringify({ success: false, error: message, error_type: type });
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
