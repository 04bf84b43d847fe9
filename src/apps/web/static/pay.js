// Paying with Stripe.js on the web pages (decision 0053); loaded only where Stripe's card
// form is served, after Stripe.js itself (https://js.stripe.com/v3/, or an emulator's in
// tests). No inline script: the pages' Content-Security-Policy allows none.
//
// 1. The join form (#card-element): Stripe's Card Element takes the card in Stripe's own
//    fields; on submit, Stripe.js turns it into a token, which goes in the form's
//    payment_method field, and the form is sent as usual. The server makes the payment
//    (its PaymentIntent) through the join's idempotency key: the same form sent again is
//    the same join, charged once.
// 2. A payment the bank wants confirmed (#bank-confirm): Stripe.js shows the bank's
//    challenge (3-D Secure) with the PaymentIntent's client secret; the outcome reaches
//    the platform as Stripe's signed webhook, and the entry's page follows it.
"use strict";

(function () {
  function cardForm(mount) {
    const form = mount.closest("form");
    const stripe = Stripe(mount.dataset.publishableKey);
    const card = stripe.elements().create("card");
    card.mount(mount);
    const errors = document.getElementById("card-errors");
    const method = document.getElementById("payment_method");
    const button = form.querySelector("button[type=submit]");
    let tokenised = false;
    form.addEventListener("submit", async function (event) {
      if (tokenised) {
        return; // the token is in the form: let it go
      }
      event.preventDefault();
      button.disabled = true; // one token, one submission
      errors.textContent = "";
      let result;
      try {
        result = await stripe.createToken(card);
      } catch (failure) {
        result = { error: { message: String(failure) } };
      }
      if (!result || result.error || !result.token) {
        const message = result && result.error && result.error.message;
        errors.textContent = "Your card could not be read: " + (message || "check its details") +
          ". Nothing was charged.";
        button.disabled = false;
        return;
      }
      method.value = result.token.id;
      tokenised = true;
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
        result = await stripe.confirmCardPayment(box.dataset.clientSecret);
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

  const mount = document.getElementById("card-element");
  if (mount) {
    cardForm(mount);
  }
  const box = document.getElementById("bank-confirm");
  if (box) {
    bankConfirm(box);
  }
})();
