// The real clock, for handlers; the domain only ever sees the Clock port.

import { Clock } from '../core/ports';

export const systemClock: Clock = { now: () => Date.now() };
