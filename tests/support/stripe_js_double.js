// A test double of the Stripe.js calls the join page makes (decision 0060): Stripe's
// Payment Element in the "finalize payments on the server" flow. Test-only: served by the
// Stripe emulator (tests/support/stripe_emulator.py, at /stripe-js-double/v3/) to the
// browser tests through FANTASY_STRIPE_JS_URL; nothing under src/ has or loads it.
//
// It plays, after Stripe.js's documentation, only what static/pay.js calls:
//   Stripe(publishableKey)
//   stripe.elements({mode: "payment", amount, currency, paymentMethodTypes,
//                    paymentMethodCreation: "manual"})
//   elements.create("payment").mount(element)
//   elements.submit()                       -> {} or {error} (the fields checked)
//   stripe.createPaymentMethod({elements})  -> {paymentMethod} or {error}
//   stripe.handleNextAction({clientSecret}) -> {paymentIntent} or {error}
// Misuse Stripe.js refuses (no manual creation, createPaymentMethod before submit, a
// second Payment Element, an unknown mode) is thrown as an IntegrationError here too.
//
// What it is not: Stripe's Payment Element is an iframe from js.stripe.com whose card
// fields the page cannot read; this one renders plain labelled inputs in the page. The
// card goes where Stripe.js sends it, the emulator's POST /v1/payment_methods with the
// publishable key (form-encoded, `key=pk_...`); the bank's 3-D Secure challenge is a
// dialog in the page whose answer goes to localstripe's own
// POST /v1/payment_intents/{id}/_authenticate, as localstripe's confirmCardPayment does.
"use strict";

{
  const BASE = new URL(document.currentScript.src).origin;

  class IntegrationError extends Error {
    constructor(message) {
      super(message);
      this.name = "IntegrationError";
    }
  }

  // Stripe's API takes form-encoded bodies with bracketed keys: card[number]=...
  function formBody(fields, prefix, into) {
    const body = into || new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) {
      const key = prefix ? `${prefix}[${name}]` : name;
      if (value !== null && typeof value === "object") {
        formBody(value, key, body);
      } else if (value !== undefined) {
        body.append(key, String(value));
      }
    }
    return body;
  }

  async function post(path, fields) {
    let response;
    try {
      response = await fetch(BASE + path, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: formBody(fields).toString(),
      });
    } catch (failure) {
      return { error: { type: "api_connection_error", message: String(failure) } };
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok || body.error) {
      return { error: body.error || { type: "api_error", message: `HTTP ${response.status}` } };
    }
    return { body: body };
  }

  let counter = 0;

  // The card fields, in the page (the real Payment Element's are in Stripe's iframe).
  class PaymentElementDouble {
    constructor(group) {
      this.group = group;
      this.inputs = null;
      this.said = null;
    }

    mount(target) {
      const box = typeof target === "string" ? document.querySelector(target) : target;
      if (!(box instanceof HTMLElement)) {
        throw new IntegrationError("mount() needs a DOM element or a selector of one.");
      }
      if (this.inputs) {
        throw new IntegrationError("This Element is already mounted.");
      }
      counter += 1;
      const fields = [
        ["number", "Card number", "cc-number", 19],
        ["exp_month", "Expiry month (MM)", "cc-exp-month", 2],
        ["exp_year", "Expiry year (YY)", "cc-exp-year", 2],
        ["cvc", "Security code (CVC)", "cc-csc", 4],
        ["postal_code", "ZIP code", "postal-code", 10],
      ];
      this.inputs = {};
      for (const [name, text, autocomplete, size] of fields) {
        const id = `stripe-double-${counter}-${name}`;
        const wrap = document.createElement("div");
        const label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = text;
        const input = document.createElement("input");
        input.id = id;
        input.type = "text";
        input.inputMode = "numeric";
        input.autocomplete = autocomplete;
        input.size = size;
        input.maxLength = size;
        input.addEventListener("input", () => {
          this.group.submitted = false; // changed since submit(): submit again
          this.say(""); // as Stripe's form, its message follows the fields
        });
        wrap.append(label, input);
        box.append(wrap);
        this.inputs[name] = input;
      }
      this.said = document.createElement("p");
      this.said.setAttribute("role", "alert");
      box.append(this.said);
    }

    value(name) {
      return this.inputs[name].value.replace(/\s+/g, "");
    }

    // What Stripe's form would say about the fields, or null when complete.
    problem() {
      const number = this.value("number");
      const month = Number(this.value("exp_month"));
      const year = this.value("exp_year");
      if (!/^\d{13,19}$/.test(number)) {
        return { code: "incomplete_number", message: "Your card number is incomplete." };
      }
      if (!/^\d{1,2}$/.test(this.value("exp_month")) || month < 1 || month > 12) {
        return { code: "invalid_expiry_month", message: "Your card's expiration month is invalid." };
      }
      if (!/^\d{2}$/.test(year) || 2000 + Number(year) < new Date().getFullYear()) {
        return { code: "invalid_expiry_year", message: "Your card's expiration year is invalid." };
      }
      if (!/^\d{3,4}$/.test(this.value("cvc"))) {
        return { code: "incomplete_cvc", message: "Your card's security code is incomplete." };
      }
      if (this.value("postal_code") === "") {
        return { code: "incomplete_zip", message: "Your postal code is incomplete." };
      }
      return null;
    }

    say(text) {
      this.said.textContent = text;
    }
  }

  function elementsGroup(options) {
    const o = options || {};
    if (o.mode !== "payment") {
      throw new IntegrationError(`This double plays mode "payment" only, not ${o.mode}.`);
    }
    if (!Number.isInteger(o.amount) || o.amount <= 0) {
      throw new IntegrationError("amount must be a positive integer (in the smallest unit).");
    }
    if (typeof o.currency !== "string" || !/^[a-z]{3}$/.test(o.currency)) {
      throw new IntegrationError("currency must be a lowercase three-letter ISO code.");
    }
    if (o.paymentMethodTypes !== undefined &&
        !(Array.isArray(o.paymentMethodTypes) && o.paymentMethodTypes.includes("card"))) {
      throw new IntegrationError("This double takes cards: paymentMethodTypes must list card.");
    }
    const group = { options: o, element: null, submitted: false };
    return {
      _group: group,
      create(type) {
        if (type !== "payment") {
          throw new IntegrationError(`This double creates the Payment Element only, not ${type}.`);
        }
        if (group.element) {
          throw new IntegrationError("Can only create one Element of type payment.");
        }
        group.element = new PaymentElementDouble(group);
        return group.element;
      },
      getElement(type) {
        return type === "payment" ? group.element : null;
      },
      async submit() {
        group.submitted = false;
        const element = group.element;
        if (!element || !element.inputs) {
          throw new IntegrationError("elements.submit() needs a mounted Payment Element.");
        }
        const problem = element.problem();
        element.say(problem ? problem.message : "");
        if (problem) {
          return { error: { type: "validation_error", code: problem.code, message: problem.message } };
        }
        group.submitted = true;
        return {};
      },
    };
  }

  // The bank's 3-D Secure page, as a dialog in the page: true when the challenge is passed.
  function bankChallenge() {
    return new Promise((resolve) => {
      const dialog = document.createElement("div");
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-modal", "true");
      dialog.setAttribute("aria-labelledby", "stripe-double-3ds-title");
      Object.assign(dialog.style, {
        position: "fixed", top: "20%", left: "50%", transform: "translateX(-50%)",
        width: "min(20rem, 90vw)", padding: "1rem", background: "#fff", color: "#1a1a1a",
        border: "3px solid #555", zIndex: "1000",
      });
      const title = document.createElement("h2");
      title.id = "stripe-double-3ds-title";
      title.textContent = "3-D Secure (the test double of your bank's page)";
      const pass = document.createElement("button");
      pass.type = "button";
      pass.textContent = "Complete authentication";
      const fail = document.createElement("button");
      fail.type = "button";
      fail.textContent = "Fail authentication";
      dialog.append(title, pass, " ", fail);
      document.body.append(dialog);
      const answer = (passed) => () => {
        dialog.remove();
        resolve(passed);
      };
      pass.addEventListener("click", answer(true));
      fail.addEventListener("click", answer(false));
      pass.focus();
    });
  }

  window.Stripe = function Stripe(publishableKey) {
    if (typeof publishableKey !== "string" || !/^pk_(test|live)_\w+$/.test(publishableKey)) {
      throw new IntegrationError(`Invalid publishable key: ${publishableKey}`);
    }
    return {
      elements: elementsGroup,

      async createPaymentMethod(options) {
        const elements = options && options.elements;
        if (!elements || !elements._group) {
          throw new IntegrationError("This double creates PaymentMethods from elements only.");
        }
        const group = elements._group;
        if (group.options.paymentMethodCreation !== "manual") {
          throw new IntegrationError(
            "createPaymentMethod with elements needs paymentMethodCreation: 'manual'.");
        }
        if (!group.submitted) {
          throw new IntegrationError(
            "elements.submit() must be called before stripe.createPaymentMethod().");
        }
        const card = group.element;
        const params = (options && options.params) || {};
        const billing = Object.assign({}, params.billing_details || {});
        billing.address = Object.assign({}, billing.address || {},
          { postal_code: card.value("postal_code") });
        const made = await post("/v1/payment_methods", {
          type: "card",
          card: {
            number: card.value("number"),
            exp_month: card.value("exp_month"),
            exp_year: card.value("exp_year"),
            cvc: card.value("cvc"),
          },
          billing_details: billing,
          key: publishableKey,
          payment_user_agent: "stripe-js-double",
        });
        if (made.error) {
          card.say(made.error.message || "");
          return { error: made.error };
        }
        return { paymentMethod: made.body };
      },

      async handleNextAction(options) {
        const secret = (options && options.clientSecret) || "";
        const intent = /^(pi_[A-Za-z0-9]+)_secret_/.exec(secret);
        if (!intent) {
          throw new IntegrationError("handleNextAction needs a PaymentIntent's clientSecret.");
        }
        const passed = await bankChallenge();
        const answered = await post(
          `/v1/payment_intents/${intent[1]}/_authenticate?success=${passed}`,
          { key: publishableKey, client_secret: secret });
        if (answered.error) {
          return { error: answered.error };
        }
        const status = answered.body.status;
        if (status === "succeeded" || status === "processing") {
          return { paymentIntent: answered.body };
        }
        return {
          error: {
            type: "invalid_request_error",
            code: "payment_intent_authentication_failure",
            message: "We are unable to authenticate your payment method. Please choose a " +
              "different payment method and try again.",
            payment_intent: answered.body,
          },
        };
      },
    };
  };
}
