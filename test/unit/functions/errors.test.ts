import { describe, expect, it } from 'vitest';
import { ERRORS as ERROR_STATUS } from '../../../contract/errors.ts';
import { classifyDbError } from '../../../functions/lib/db/pool.ts';
import { AppError, errorResponse } from '../../../functions/lib/errors.ts';

const dbError = (fields: Record<string, unknown>) => Object.assign(new Error('mysql said no'), fields);

describe('error responses', () => {
  it('carry the stable code, the message and the mapped status', async () => {
    const res = errorResponse(new AppError('NO_CATS', 'there are no cats yet'));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NO_CATS', message: 'there are no cats yet' } });
  });

  it('hide the details of unexpected errors', async () => {
    const res = errorResponse(new Error('password=hunter2 in a stack'));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('hunter2');
  });

  it('map every code to a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status).toBeGreaterThanOrEqual(400);
    expect(ERROR_STATUS.DB_UNAVAILABLE).toBe(503);
    expect(ERROR_STATUS.SOURCE_NOT_IMAGE).toBe(502);
    expect(ERROR_STATUS.METHOD_NOT_ALLOWED).toBe(405);
  });

  it('pass extra headers such as Allow and Retry-After', () => {
    const res = errorResponse(new AppError('METHOD_NOT_ALLOWED', 'no', { headers: { allow: 'POST' } }));
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('database error mapping', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, 'DB_UNAVAILABLE', 503],
    [{ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }, 'DB_UNAVAILABLE', 503],
    [{ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 }, 'DB_UNAVAILABLE', 503],
    [{ code: 'ER_CON_COUNT_ERROR', errno: 1040 }, 'DB_TOO_MANY_CONNECTIONS', 503],
    [{ code: 'ER_QUERY_TIMEOUT', errno: 3024 }, 'DB_TIMEOUT', 504],
    [{ code: 'ER_STATEMENT_TIMEOUT', errno: 1969 }, 'DB_TIMEOUT', 504],
    [{ code: 'ER_NO_SUCH_TABLE', errno: 1146 }, 'DB_SCHEMA_MISSING', 500],
  ])('%o becomes %s (%i)', (fields, code, status) => {
    const mapped = classifyDbError(dbError(fields));
    expect(mapped).toBeInstanceOf(AppError);
    expect((mapped as AppError).code).toBe(code);
    expect((mapped as AppError).status).toBe(status);
  });

  it('leaves an unknown SQL error as it is (a 500 with details only in the log)', () => {
    const err = dbError({ code: 'ER_PARSE_ERROR', errno: 1064 });
    expect(classifyDbError(err)).toBe(err);
  });

  it('asks clients to retry after a second when MySQL is out of connections', () => {
    const mapped = classifyDbError(dbError({ errno: 1040 })) as AppError;
    expect(errorResponse(mapped).headers.get('retry-after')).toBe('1');
  });
});
