// The checks a user asks for and the hand edits of one parameter: what the gradient check
// button, the inspector's check button and its value form do. Renderers wire their buttons to
// these; the requests (REST for the whole-network check, the socket for one parameter) and the
// store changes happen here, so no renderer calls the server or writes the store.

import { api } from "./api.js";
import { send } from "./session.js";
import { setGradientCheck, setParameterCheck, store } from "./store.js";

/** §1.7: the whole network's backprop gradient against central differences (REST). */
export async function runGradientCheck() {
  if (!store.sessionId) return;
  const step = store.step;
  setGradientCheck({ status: "running", step });
  try {
    const result = await api.gradientCheck(store.sessionId);
    setGradientCheck({ status: "done", result, step });
  } catch (error) {
    setGradientCheck({ status: "error", error, step }); // worded when drawn (refusals.js)
  }
}

/** The socket message naming one parameter: `{layer, kind, i}` and `j` for a weight. */
function addressed(type, parameter, extra = {}) {
  const message = { type, layer: parameter.layer, kind: parameter.kind, i: parameter.i, ...extra };
  if (parameter.kind === "weight") message.j = parameter.j;
  return message;
}

/** A finite-difference check of one weight or bias; the server's `parameter_check` answers. */
export function checkParameter(parameter) {
  setParameterCheck({ pending: true, ...parameter });
  send(addressed("check_parameter", parameter));
}

/** Sets one weight or bias by hand; the frame that follows shows it. */
export function setParameterValue(parameter, value) {
  send(addressed("set_parameter", parameter, { value }));
}
