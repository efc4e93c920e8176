import { form } from "../../src/connectors/form/index.js";
import { runConnectorContract } from "../../src/connectors/testing/contract-suite.js";

/**
 * The shared connector contract for the site form: no platform, no webhook (forms post to the
 * form's own route, tested in form.test.ts) and no replies, so no send sample.
 */
runConnectorContract(form, {
  start: async () => ({ baseUrls: {} }),
  stop: async () => {},
  settings: {
    allowedOrigins: ["https://shop.example.com"],
    requiredFields: ["text"],
    submissionsPerIpPerHour: 10,
  },
  invalidSettings: [
    {},
    { allowedOrigins: [] },
    { allowedOrigins: ["*"], successRedirectUrl: "not a url" },
    { allowedOrigins: ["*"], requiredFields: ["age"] },
  ],
  accountId: "lc_contract",
});
