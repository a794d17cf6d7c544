/**
 * Types declared elsewhere for data that lands in results.json and
 * baselines must be exactly the schema's (reports/schema.ts): a field added
 * or changed on one side only fails to compile here. Types only: nothing
 * imports this file; tsc checks it with the rest.
 */
import type { Static } from "@sinclair/typebox";
import type { ChatMeasurement, ClientEngine, ErrorCounts, SizeSpec } from "../contracts/client.js";
import type { MessageWork, WorkSpec } from "../contracts/work.js";
import type { ConfigKey, Repeat } from "./samples.js";
import type { Spread } from "./stats.js";
import type * as S from "./schema.js";

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Holds<T extends true> = T;

export type SchemaAgreement = [
  Holds<Same<ClientEngine, Static<typeof S.ClientEngineSchema>>>,
  Holds<Same<SizeSpec, Static<typeof S.SizeSpecSchema>>>,
  Holds<Same<ErrorCounts, Static<typeof S.ErrorCountsSchema>>>,
  Holds<Same<WorkSpec, Static<typeof S.WorkSpecSchema>>>,
  Holds<Same<MessageWork, Static<typeof S.MessageWorkSchema>>>,
  Holds<Same<ChatMeasurement, S.ChatFigures>>,
  Holds<Same<Spread, Static<typeof S.SpreadSchema>>>,
  Holds<Same<ConfigKey, Static<typeof S.ConfigKeySchema>>>,
  Holds<Same<Repeat, Static<typeof S.RepeatSchema>>>,
];
