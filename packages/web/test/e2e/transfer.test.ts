import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  newPage,
  screenshots,
  signInAsAdmin,
  startWorld,
  unlabelledControls,
  type World,
} from "./harness.js";

describe("operators in a real browser: a new operator and a transfer", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it("adds an operator to the line, who chooses a password at first sign-in, answers a chat the admin took and transferred, and signs out of every tab", async () => {
    const shot = screenshots("transfer");
    const { page: admin, context: adminContext } = await newPage(world);
    await signInAsAdmin(admin, world);

    // The admin adds Bob and puts him on the demo line.
    await admin.getByRole("link", { name: "Administration" }).click();
    await admin.getByLabel("Name", { exact: true }).last().fill("Bob");
    await admin.getByLabel("Email", { exact: true }).fill("bob@example.com");
    await admin.getByLabel("One-time password").fill("bob one-time 1");
    await admin.getByRole("button", { name: "Add operator" }).click();
    await admin.getByText(/Operator added/).waitFor();
    await admin.getByRole("checkbox", { name: /Bob \(bob@example.com\)/ }).check();
    await admin.getByRole("button", { name: "Save line" }).click();
    await admin.getByText("Saved.").waitFor();
    await shot(admin, "operator-added");

    // Bob's first sign-in asks for his own password; he sees no administration.
    const { page: bob, context: bobContext } = await newPage(world);
    await bob.goto(world.server.url);
    await bob.getByLabel("Email").fill("bob@example.com");
    await bob.getByLabel("Password").fill("bob one-time 1");
    await bob.getByLabel("Password").press("Enter");
    await bob.getByLabel("One-time password").fill("bob one-time 1");
    await bob.getByLabel("New password", { exact: true }).fill("bob's own password");
    await bob.getByLabel("Repeat the new password").fill("bob's own password");
    expect(await unlabelledControls(bob)).toEqual([]);
    await bob.getByRole("button", { name: "Save password" }).click();
    await bob.getByText("● Live").waitFor();
    expect(await bob.getByRole("link", { name: "Administration" }).count()).toBe(0);

    // A visitor writes; the admin takes the chat and transfers it to Bob.
    const { page: vis, context: visContext } = await newPage(world);
    await vis.goto(`${world.server.url}/demo`);
    await vis.getByRole("button", { name: "Chat with us" }).click();
    await vis.getByLabel("Your message").fill("Can I talk to Bob?");
    await vis.getByLabel("Your message").press("Enter");
    await admin.getByRole("link", { name: "Conversations" }).click();
    await admin.locator(".chat-item").first().click();
    await admin.getByText("Can I talk to Bob?").waitFor();
    await admin.getByRole("button", { name: "Take" }).click();
    await admin.getByTestId("session-state").filter({ hasText: "active" }).waitFor();
    await admin.getByRole("button", { name: "Transfer…" }).click();
    await admin.getByLabel("Transfer to").selectOption({ label: "Bob (online)" });
    await shot(admin, "transfer");
    await admin.getByRole("button", { name: "Transfer", exact: true }).click();

    // Bob has it among his chats and answers.
    await bob.getByRole("tab", { name: /Mine/ }).click();
    await bob.locator(".chat-item").first().click();
    await bob.getByText("Can I talk to Bob?").waitFor();
    await bob.getByTestId("session-state").filter({ hasText: "active" }).waitFor();
    const reply = bob.getByRole("textbox", { name: "Reply", exact: true });
    await reply.fill("Bob here, hello!");
    await reply.press("Enter");
    await vis.getByText("Bob here, hello!").waitFor();
    await shot(bob, "bob-answers");

    // Signing out in one tab sends the other tab of the same browser back to the sign-in form.
    const otherTab = await bobContext.newPage();
    await otherTab.goto(world.server.url);
    await otherTab.getByRole("tab", { name: /Closed/ }).waitFor();
    await bob.getByRole("button", { name: "Sign out" }).click();
    await bob.getByRole("heading", { name: "Sign in to openlines" }).waitFor();
    await otherTab.getByRole("tab", { name: /Closed/ }).click();
    await otherTab.getByRole("heading", { name: "Sign in to openlines" }).waitFor();
    await adminContext.close();
    await bobContext.close();
    await visContext.close();
  });
});
