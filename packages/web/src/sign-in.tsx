import { type FormEvent, useEffect, useRef, useState } from "react";
import { api, describeError, setCsrfToken } from "./lib/api.ts";
import type { Operator } from "./lib/types.ts";

export function SignIn({
  onSignedIn,
}: {
  onSignedIn: (s: { operator: Operator; csrfToken: string | null }) => void;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  useEffect(() => emailRef.current?.focus(), []);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setBusy(true);
    setError("");
    try {
      onSignedIn(
        await api.post("/api/session", { email: data.get("email"), password: data.get("password") }),
      );
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to openlines</h1>
        <label htmlFor="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          ref={(el) => el?.focus()}
        />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        <p className="error" role="alert">
          {error}
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

/** The first sign-in with a one-time password must choose a new one before anything else. */
export function ChangePassword({
  operator,
  onChanged,
}: {
  operator: Operator;
  onChanged: (o: Operator) => void;
}) {
  const [error, setError] = useState("");
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    if (data.get("newPassword") !== data.get("repeat")) return setError("The two new passwords differ.");
    try {
      const r = await api.post<{ operator: Operator }>("/api/session/password", {
        currentPassword: data.get("currentPassword"),
        newPassword: data.get("newPassword"),
      });
      const s = await api.get<{ csrfToken: string | null }>("/api/session");
      setCsrfToken(s.csrfToken);
      onChanged(r.operator);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="change-title">
        <h1 id="change-title">Choose your password</h1>
        <p>
          Welcome, {operator.name}. You signed in with a one-time password; choose your own (at least 10
          characters).
        </p>
        <label htmlFor="currentPassword">One-time password</label>
        <input
          id="currentPassword"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
        />
        <label htmlFor="newPassword">New password</label>
        <input
          id="newPassword"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
        />
        <label htmlFor="repeat">Repeat the new password</label>
        <input
          id="repeat"
          name="repeat"
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
        />
        <p className="error" role="alert">
          {error}
        </p>
        <button type="submit">Save password</button>
      </form>
    </main>
  );
}
