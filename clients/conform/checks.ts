/** Every protocol's checks, in the order `iobench conform` runs them. */
import { CHAT_CHECKS } from "./chat.js";
import { CHAT_RAW_CHECKS } from "./chat-raw.js";
import { ECHO_CHECKS } from "./echo.js";
import { HTTP_CHECKS } from "./http.js";
import type { Check, ConformProtocol } from "./suite.js";

export const CHECKS: Record<ConformProtocol, readonly Check[]> = {
  echo: ECHO_CHECKS,
  chat: CHAT_CHECKS,
  http: HTTP_CHECKS,
  "chat-raw": CHAT_RAW_CHECKS,
};
