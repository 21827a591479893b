// Greets through greeter.v1.GreeterService/SayHello with the Connect
// protocol: a POST of the request as JSON, answered with the response as JSON
// or, on failure, a Connect error ({"code": ..., "message": ...}).
"use strict";

const form = document.getElementById("greet-form");
const input = document.getElementById("name");
const out = document.getElementById("greeting");

async function greet(name) {
  out.className = "";
  out.textContent = "…";
  try {
    const res = await fetch("/greeter.v1.GreeterService/SayHello", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Connect-Protocol-Version": "1",
        "Connect-Timeout-Ms": "10000",
      },
      body: JSON.stringify({ name: name }),
    });
    const body = await res.json();
    if (!res.ok) {
      throw new Error(body.message || body.code || res.statusText);
    }
    out.textContent = body.message;
  } catch (err) {
    out.className = "error";
    out.textContent = "Could not greet: " + err.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  greet(input.value);
});

const name = new URLSearchParams(window.location.search).get("name");
if (name !== null) {
  input.value = name;
  greet(name);
}
