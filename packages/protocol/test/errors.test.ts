import { describe, expect, it } from "vitest";
import { type ErrorCode, ErrorCodes, errorReply, isOpenlinesError, OpenlinesError } from "../src/errors.js";

describe("error catalogue", () => {
  it.each(Object.entries(ErrorCodes))(
    "%s has an HTTP error status and a sentence for a person",
    (code, entry) => {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(Number.isInteger(entry.status)).toBe(true);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.message.length).toBeGreaterThan(5);
      expect(entry.message).toMatch(/[.!?]$/);
    },
  );

  it("builds an error with the catalogue's status and message unless told otherwise", () => {
    const e = new OpenlinesError("LINE_UNKNOWN");
    expect(e).toBeInstanceOf(Error);
    expect(e.status).toBe(404);
    expect(e.message).toBe(ErrorCodes.LINE_UNKNOWN.message);
    const cause = new Error("socket hang up");
    const f = new OpenlinesError("RPC_UNREACHABLE", "Hub down.", { status: 503, details: { a: 1 }, cause });
    expect(f.status).toBe(503);
    expect(f.cause).toBe(cause);
    expect(f.toBody()).toEqual({
      error: { code: "RPC_UNREACHABLE", message: "Hub down.", details: { a: 1 } },
    });
    expect(isOpenlinesError(f, "RPC_UNREACHABLE")).toBe(true);
    expect(isOpenlinesError(f, "RPC_TIMEOUT")).toBe(false);
    expect(isOpenlinesError(new Error("x"))).toBe(false);
  });

  it("rebuilds a remote error from its body, keeping codes it does not know", () => {
    const known = OpenlinesError.fromBody({ error: { code: "LINE_INACTIVE", message: "Off." } }, 409);
    expect([known.code, known.status, known.message]).toEqual(["LINE_INACTIVE", 409, "Off."]);
    const newer = OpenlinesError.fromBody({ error: { code: "SOMETHING_NEW", message: "New." } }, 400);
    expect([newer.code, newer.status]).toEqual(["SOMETHING_NEW", 400]);
    expect(newer.toBody().error.code).toBe("SOMETHING_NEW");
  });
});

describe("errorReply", () => {
  it("answers a typed error with its own status and body", () => {
    const r = errorReply(new OpenlinesError("SETTINGS_INVALID", "Token is empty.", { details: ["token"] }));
    expect(r).toEqual({
      status: 422,
      body: { error: { code: "SETTINGS_INVALID", message: "Token is empty.", details: ["token"] } },
      internal: false,
    });
  });

  it.each([
    ["FST_ERR_CTP_BODY_TOO_LARGE", 413, "BODY_TOO_LARGE"],
    ["FST_ERR_CTP_INVALID_JSON_BODY", 400, "BODY_NOT_JSON"],
    ["FST_ERR_CTP_EMPTY_JSON_BODY", 400, "BODY_NOT_JSON"],
    ["FST_ERR_CTP_INVALID_MEDIA_TYPE", 400, "BAD_REQUEST"],
  ] as [string, number, ErrorCode][])("maps the framework's %s to %i %s", (fcode, status, code) => {
    const err = Object.assign(new Error("framework text"), { code: fcode, statusCode: status });
    const r = errorReply(err);
    expect([r.status, r.body.error.code, r.internal]).toEqual([status, code, false]);
  });

  it("maps another client error with a 4xx status to BAD_REQUEST", () => {
    const r = errorReply(Object.assign(new Error("Bad header"), { statusCode: 431 }));
    expect([r.status, r.body.error.code]).toEqual([400, "BAD_REQUEST"]);
  });

  it("hides anything else behind a 500 INTERNAL that says nothing of the cause", () => {
    for (const thrown of [
      new Error("password=hunter2 in connection string"),
      "a string",
      null,
      { statusCode: 503 },
    ]) {
      const r = errorReply(thrown);
      expect(r.status).toBe(500);
      expect(r.internal).toBe(true);
      expect(r.body).toEqual({ error: { code: "INTERNAL", message: ErrorCodes.INTERNAL.message } });
    }
  });
});
