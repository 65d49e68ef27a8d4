/**
 * torch.distributed's point-to-point ops: `send`/`recv` (blocking) and `isend`/`irecv` (a {@link Work}), with ranks
 * given as global ranks or, with `groupSrc`/`groupDst`, as ranks in the group. A send is matched by the recv of the
 * same tag on the destination.
 */
import { describe } from '../dtype';
import { TorchError } from '../errors';
import { type Tensor } from '../tensor';
import { positionalOrOptions } from '../tensor/checks';
import { Work, group, groupRankOf, tensorArg } from './collectives';
import { dist, type NativeWork } from './native';
import { type GroupArg, getGlobalRank } from './process-group';

/** Options of the point-to-point ops. */
export interface P2POptions {
  /** The group (default: the default group). */
  group?: GroupArg;
  /** Matches a send with the recv of the same tag (default 0). */
  tag?: number;
}

function tagArg(fn: string, v: unknown): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v)) throw new TypeError(`${fn}: expected an integer for tag but received ${describe(v)}`);
  return v as number;
}

/**
 * Sends `tensor` to rank `dst` and waits until it is sent (Python's `send`).
 *
 * @example
 * if (rank === 0) dist.send(t, 1); else dist.recv(t, 0);
 */
export function send(tensor: Tensor, dst?: number | null, options?: P2POptions & { groupDst?: number }): void;
export function send(tensor: Tensor, options: P2POptions & { dst?: number; groupDst?: number }): void;
export function send(tensor: Tensor, ...rest: unknown[]): void {
  const fn = 'send';
  const o = positionalOrOptions(fn, rest, ['dst', 'group', 'tag'], { keywordOnly: ['groupDst'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const tag = tagArg(fn, o.tag);
  const g = group(fn, o);
  if (g === null) return;
  const dst = groupRankOf(fn, g, o.dst, o.groupDst, 'dst', 'groupDst');
  if (dst === g.rank()) throw new TorchError('Invalid destination rank: destination rank should not be the same as the rank of the current process.', 'VALUE_ERROR');
  dist().distSend(g._h, t.h, dst, tag, false);
}

/**
 * Receives into `tensor` from rank `src` (any rank when omitted) and returns the sender's global rank (Python's
 * `recv`); -1 when this rank is not in the group.
 *
 * @example
 * const from = dist.recv(t);
 */
export function recv(tensor: Tensor, src?: number | null, options?: P2POptions & { groupSrc?: number }): number;
export function recv(tensor: Tensor, options: P2POptions & { src?: number; groupSrc?: number }): number;
export function recv(tensor: Tensor, ...rest: unknown[]): number {
  const fn = 'recv';
  const o = positionalOrOptions(fn, rest, ['src', 'group', 'tag'], { keywordOnly: ['groupSrc'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const tag = tagArg(fn, o.tag);
  const g = group(fn, o);
  if (g === null) return -1;
  const any = (o.src === undefined || o.src === null) && (o.groupSrc === undefined || o.groupSrc === null);
  const src = any ? -1 : groupRankOf(fn, g, o.src, o.groupSrc, 'src', 'groupSrc');
  if (!any && src === g.rank()) throw new TorchError('Invalid source rank: source rank should not be the same as the rank of the current process.', 'VALUE_ERROR');
  const from = dist().distRecv(g._h, t.h, src, tag, false) as number;
  return getGlobalRank(g, from);
}

/**
 * Starts sending `tensor` to rank `dst` (Python's `isend`); undefined when this rank is not in the group.
 *
 * @example
 * const w = dist.isend(t, 1); await w.wait();
 */
export function isend(tensor: Tensor, dst?: number | null, options?: P2POptions & { groupDst?: number }): Work;
export function isend(tensor: Tensor, options: P2POptions & { dst?: number; groupDst?: number }): Work;
export function isend(tensor: Tensor, ...rest: unknown[]): Work | undefined {
  const fn = 'isend';
  const o = positionalOrOptions(fn, rest, ['dst', 'group', 'tag'], { keywordOnly: ['groupDst'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const tag = tagArg(fn, o.tag);
  const g = group(fn, o);
  if (g === null) return undefined;
  const dst = groupRankOf(fn, g, o.dst, o.groupDst, 'dst', 'groupDst');
  return new Work(dist().distSend(g._h, t.h, dst, tag, true) as NativeWork, g);
}

/**
 * Starts receiving into `tensor` from rank `src`, or from any rank (Python's `irecv`); after `wait()`,
 * `work.sourceRank()` says from whom.
 *
 * @example
 * const w = dist.irecv(t); await w.wait(); w.sourceRank();
 */
export function irecv(tensor: Tensor, src?: number | null, options?: P2POptions & { groupSrc?: number }): Work;
export function irecv(tensor: Tensor, options: P2POptions & { src?: number; groupSrc?: number }): Work;
export function irecv(tensor: Tensor, ...rest: unknown[]): Work | undefined {
  const fn = 'irecv';
  const o = positionalOrOptions(fn, rest, ['src', 'group', 'tag'], { keywordOnly: ['groupSrc'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const tag = tagArg(fn, o.tag);
  const g = group(fn, o);
  if (g === null) return undefined;
  const any = (o.src === undefined || o.src === null) && (o.groupSrc === undefined || o.groupSrc === null);
  const src = any ? -1 : groupRankOf(fn, g, o.src, o.groupSrc, 'src', 'groupSrc');
  return new Work(dist().distRecv(g._h, t.h, src, tag, true) as NativeWork, g, any ? null : getGlobalRank(g, src));
}
