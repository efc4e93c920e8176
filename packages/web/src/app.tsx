import { useCallback, useEffect, useState } from "react";
import { AdminPage } from "./admin/admin-page.tsx";
import { api, onUnauthorized, setCsrfToken } from "./lib/api.ts";
import { go, useRoute } from "./lib/route.ts";
import type { Operator } from "./lib/types.ts";
import { ChangePassword, SignIn } from "./sign-in.tsx";
import { Workspace } from "./workspace/workspace.tsx";

interface SessionAnswer {
  operator: Operator;
  csrfToken: string | null;
}

/** Who is signed in decides the page: sign-in, the forced password change, or the workspace. */
export function App() {
  const [me, setMe] = useState<Operator | null | undefined>(undefined);
  const route = useRoute();

  const signedIn = useCallback((s: SessionAnswer) => {
    setCsrfToken(s.csrfToken);
    setMe(s.operator);
  }, []);
  useEffect(() => {
    onUnauthorized(() => {
      setCsrfToken(null);
      setMe(null);
    });
    api
      .get<SessionAnswer>("/api/session")
      .then(signedIn)
      .catch(() => setMe(null));
  }, [signedIn]);

  if (me === undefined) return <p className="loading">Loading…</p>;
  if (me === null) return <SignIn onSignedIn={signedIn} />;
  if (me.mustChangePassword) return <ChangePassword operator={me} onChanged={setMe} />;

  const signOut = async () => {
    await api.del("/api/session").catch(() => {});
    setCsrfToken(null);
    setMe(null);
  };
  const admin = route[0] === "admin";
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/">
          openlines
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={!admin ? "page" : undefined}>
            Conversations
          </a>
          {me.role === "admin" && (
            <a href="#/admin" aria-current={admin ? "page" : undefined}>
              Administration
            </a>
          )}
        </nav>
        <span className="whoami">{me.name}</span>
        <Presence />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      {admin && me.role === "admin" ? (
        <AdminPage route={route.slice(1)} />
      ) : (
        <Workspace
          me={me}
          chatId={route[0] === "chats" ? route[1] : undefined}
          onOpen={(id) => go("chats", id)}
        />
      )}
    </div>
  );
}

/** The operator's own presence: "away" stops new offers without signing out. */
function Presence() {
  const [presence, setPresence] = useState("online");
  return (
    <span className="presence">
      <label htmlFor="presence">Status</label>{" "}
      <select
        id="presence"
        value={presence}
        onChange={async (e) => {
          const next = e.target.value;
          await api.put("/api/presence", { presence: next }).then(
            () => setPresence(next),
            () => {},
          );
        }}
      >
        <option value="online">Online</option>
        <option value="away">Away</option>
      </select>
    </span>
  );
}
