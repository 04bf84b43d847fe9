// Paying with Stripe.js on the web pages (decision 0060); loaded only where Stripe's card
// form is served, after Stripe.js itself (https://js.stripe.com/v3/; in the browser tests
// a test double of it, FANTASY_STRIPE_JS_URL). No inline script: the pages'
// Content-Security-Policy allows none.
//
// 1. The join form (#payment-element): Stripe's Payment Element takes the card in Stripe's
//    own frame, before any PaymentIntent exists (Stripe's "finalize payments on the
//    server" flow). On submit, elements.submit() checks the fields and
//    stripe.createPaymentMethod({elements}) makes a PaymentMethod of them; its id goes in
//    the form's payment_method field and the form is sent as usual. The server makes
//    and confirms the payment (its PaymentIntent) under the join's idempotency key: the
//    same form sent again is the same join, charged once.
// 2. A payment the bank wants confirmed (#bank-confirm): stripe.handleNextAction shows
//    the bank's challenge (3-D Secure) with the PaymentIntent's client secret; the
//    outcome reaches the platform as Stripe's signed webhook, and the entry's page
//    follows it.
"use strict";

(function () {
  function paymentForm(mount) {
    const form = mount.closest("form");
    const stripe = Stripe(mount.dataset.publishableKey);
    const elements = stripe.elements({
      mode: "payment",
      amount: Number(mount.dataset.amount),
      currency: mount.dataset.currency,
      paymentMethodTypes: ["card"],
      paymentMethodCreation: "manual", // the PaymentMethod is made here, charged by the server
    });
    elements.create("payment").mount(mount);
    const errors = document.getElementById("payment-errors");
    const method = document.getElementById("payment_method");
    const button = form.querySelector("button[type=submit]");
    let made = false;

    function refuse(message) {
      // Stripe's messages end with their own full stop ("Your card number is incomplete.").
      const why = (message || "check its details").replace(/\.\s*$/, "");
      errors.textContent = "Your card could not be used: " + why + ". Nothing was charged.";
      button.disabled = false;
    }

    form.addEventListener("submit", async function (event) {
      if (made) {
        return; // the PaymentMethod is in the form: let it go
      }
      event.preventDefault();
      button.disabled = true; // one PaymentMethod, one submission
      errors.textContent = "";
      try {
        const checked = await elements.submit();
        if (checked.error) {
          refuse(checked.error.message);
          return;
        }
        const result = await stripe.createPaymentMethod({ elements: elements });
        if (result.error || !result.paymentMethod) {
          refuse(result.error && result.error.message);
          return;
        }
        method.value = result.paymentMethod.id;
      } catch (failure) {
        refuse(String(failure));
        return;
      }
      made = true;
      form.requestSubmit();
    });
  }

  function bankConfirm(box) {
    const stripe = Stripe(box.dataset.publishableKey);
    const button = document.getElementById("confirm-with-bank");
    const said = document.getElementById("bank-result");
    button.addEventListener("click", async function () {
      button.disabled = true;
      said.textContent = "Waiting for your bank…";
      let result;
      try {
        result = await stripe.handleNextAction({ clientSecret: box.dataset.clientSecret });
      } catch (failure) {
        result = { error: { message: String(failure) } };
      }
      const intent = result && result.paymentIntent;
      if (intent && (intent.status === "succeeded" || intent.status === "processing")) {
        window.location.assign(box.dataset.entryUrl); // the webhook enters it; the page follows
        return;
      }
      const message = result && result.error && result.error.message;
      said.textContent = "Your bank did not confirm the payment" +
        (message ? " (" + message + ")" : "") +
        ": nothing was charged and the seat is given back. Join again to try another card.";
    });
  }

  const mount = document.getElementById("payment-element");
  if (mount) {
    paymentForm(mount);
  }
  const box = document.getElementById("bank-confirm");
  if (box) {
    bankConfirm(box);
  }
})();
