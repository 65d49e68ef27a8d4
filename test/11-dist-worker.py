"""A Python rank of the distributed tests: the scenarios of test/11-dist-worker.js written with torch.distributed, so
that a job can mix Node and Python ranks (or run Python ranks only, as the reference).

    python 11-dist-worker.py <scenario> [json args]     (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE set)
"""
import datetime
import json
import sys
import warnings

import torch
import torch.distributed as dist

warnings.filterwarnings('ignore')

SCENARIO = sys.argv[1]
ARGS = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
DTYPES = {'float32': torch.float32, 'float64': torch.float64, 'int64': torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}
SHAPES = [[5], [2, 3], [4, 1, 3]]


def out(t):
    return {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data': [float(v) if t.is_floating_point() else int(v) for v in t.reshape(-1).tolist()]}


def x(r, dtype, shape, plus=0):
    n = 1
    for s in shape:
        n *= s
    return (torch.arange(n).remainder(5) + (1 + r + plus)).reshape(shape).to(dtype)


def collectives(rank, world):
    res = {}
    res['meta'] = {
        'rank': dist.get_rank(), 'worldSize': dist.get_world_size(), 'backend': dist.get_backend(),
        'initialized': dist.is_initialized(), 'available': dist.is_available(), 'gloo': dist.is_gloo_available(),
        'ranks': dist.get_process_group_ranks(dist.group.WORLD),
        'nccl': dist.is_nccl_available(), 'localRank': dist.get_node_local_rank(),
        'worldName': dist.GroupMember.WORLD.group_name,
        'pgRankSize': [dist.GroupMember.WORLD.rank(), dist.GroupMember.WORLD.size()],
    }
    for dname, dtype in DTYPES.items():
        for shape in SHAPES:
            key = f"{dname}:{'x'.join(map(str, shape))}"
            ops = ['SUM', 'PRODUCT', 'MIN', 'MAX', 'BAND', 'BOR', 'BXOR'] if dname == 'int64' else ['SUM', 'AVG', 'PRODUCT', 'MIN', 'MAX']
            for op in ops:
                t = x(rank, dtype, shape)
                dist.all_reduce(t, getattr(dist.ReduceOp, op))
                res[f'allReduce.{op}.{key}'] = out(t)
            t = x(rank, dtype, shape)
            dist.broadcast(t, 1)
            res[f'broadcast.{key}'] = out(t)
            lst = [torch.zeros(shape, dtype=dtype) for _ in range(world)]
            dist.all_gather(lst, x(rank, dtype, shape))
            res[f'allGather.{key}'] = [out(v) for v in lst]
            o = torch.zeros([world * shape[0]] + shape[1:], dtype=dtype)
            dist.all_gather_into_tensor(o, x(rank, dtype, shape))
            res[f'allGatherIntoTensor.{key}'] = out(o)
            inp = torch.cat([x(rank, dtype, shape, 10 * k) for k in range(world)])
            o = torch.zeros(shape, dtype=dtype)
            dist.reduce_scatter_tensor(o, inp)
            res[f'reduceScatterTensor.{key}'] = out(o)
            t = x(rank, dtype, shape)
            dist.reduce(t, 1, dist.ReduceOp.MAX)
            if rank == 1:
                res[f'reduce.{key}'] = out(t)
            lst = [torch.zeros(shape, dtype=dtype) for _ in range(world)] if rank == 0 else None
            dist.gather(x(rank, dtype, shape), lst, 0)
            if rank == 0:
                res[f'gather.{key}'] = [out(v) for v in lst]
            lst = [x(1, dtype, shape, 100 * k) for k in range(world)] if rank == 1 else None
            t = torch.zeros(shape, dtype=dtype)
            dist.scatter(t, lst, 1)
            res[f'scatter.{key}'] = out(t)
            t = torch.zeros(shape, dtype=dtype)
            if rank == 0:
                dist.send(x(0, dtype, shape), 1)
                frm = dist.recv(t)
                res[f'recvAny.{key}'] = {'from': frm, 't': out(t)}
            elif rank == 1:
                frm = dist.recv(t, 0)
                res[f'recv.{key}'] = {'from': frm, 't': out(t)}
                dist.send(x(1, dtype, shape) * 2, 0)
            k = 2
            inp = (torch.arange(world * k) + 100 * rank).to(dtype)
            o = torch.zeros([world * k], dtype=dtype)
            dist.all_to_all_single(o, inp)
            res[f'allToAllSingle.{key}'] = out(o)
    if world == 2:
        in_splits = [1, 3] if rank == 0 else [2, 2]
        out_splits = [1, 2] if rank == 0 else [3, 2]
        inp = (torch.arange(4) + 10 * rank).to(torch.float32)
        o = torch.zeros([sum(out_splits)])
        dist.all_to_all_single(o, inp, out_splits, in_splits)
        res['allToAllUneven'] = out(o)
    t = x(rank, torch.float32, [3])
    w = dist.all_reduce(t, async_op=True)
    ok = w.wait()
    res['asyncAllReduce'] = {'ok': bool(ok), 'completed': w.is_completed(), 'success': w.is_success(), 't': out(t)}
    b = x(rank, torch.float64, [2])
    dist.broadcast(b, 0, async_op=True).wait()
    res['asyncBroadcast'] = out(b)
    dist.barrier(async_op=True).wait()
    if rank == 0:
        dist.isend(x(0, torch.int64, [4]), 1).wait()
        r = torch.zeros([4], dtype=torch.int64)
        wr = dist.irecv(r)
        wr.wait()
        res['asyncP2P'] = {'from': wr._source_rank(), 't': out(r)}
    elif rank == 1:
        r = torch.zeros([4], dtype=torch.int64)
        wr = dist.irecv(r, 0)
        wr.wait()
        dist.isend(r * 3, 0).wait()
        res['asyncP2P'] = {'from': 0, 't': out(r)}
    dist.barrier()
    g = dist.new_group([1, 0])
    t = x(rank, torch.float32, [2])
    dist.all_reduce(t, group=g)
    res['groupAll'] = {'name': g.group_name, 'rank': dist.get_rank(g), 'size': dist.get_world_size(g),
                       'ranks': dist.get_process_group_ranks(g), 't': out(t)}
    solo = dist.new_group([1])
    if solo == dist.GroupMember.NON_GROUP_MEMBER:
        res['groupSolo'] = {'member': False, 'rank': dist.get_rank(solo), 'size': dist.get_world_size(solo)}
    else:
        s = x(rank, torch.float32, [2])
        dist.all_reduce(s, group=solo)
        res['groupSolo'] = {'member': True, 'name': solo.group_name, 'rank': dist.get_rank(solo),
                            'groupRank': dist.get_group_rank(solo, 1), 'globalRank': dist.get_global_rank(solo, 0),
                            't': out(s)}
    dist.barrier()
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))
    return res


B, IN, OUT = 16, 8, 4


def batch(rows, offset, dtype):
    """The job's data without any random draw, as test/11-dist-worker.js makes it."""
    x = (torch.arange(rows * IN) + offset * IN).to(dtype).mul(0.37).sin().reshape(rows, IN)
    y = (torch.arange(rows * OUT) + offset * OUT).to(dtype).mul(0.23).cos().reshape(rows, OUT)
    return x, y


def ddp(rank, world):
    """Python's DistributedDataParallel on this rank's half of each batch: the Node worker's modes 'plain', 'bn',
    'noSync' and 'unused' (the two-head model, alternating heads)."""
    import contextlib
    import torch.nn as nn
    import torch.nn.functional as F
    dtype = DTYPES[ARGS.get('dtype', 'float32')]
    steps = ARGS.get('steps', 20)
    mode = ARGS.get('mode', 'plain')

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Linear(IN, 16)
            self.a = nn.Linear(16, OUT)
            self.b = nn.Linear(16, OUT)
            self.use_a = True

        def forward(self, x):
            h = F.relu(self.trunk(x))
            return (self.a if self.use_a else self.b)(h)

    torch.manual_seed(0)
    if mode == 'unused':
        model = TwoHeads().to(dtype)
    elif mode == 'bn':
        model = nn.Sequential(nn.Linear(IN, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, OUT)).to(dtype)
        with torch.no_grad():
            model[1].running_mean.fill_(rank + 1)
    else:
        model = nn.Sequential(nn.Linear(IN, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, OUT)).to(dtype)
    kwargs = {'bucket_cap_mb': ARGS['bucketCapMb']} if ARGS.get('bucketCapMb') else {}
    net = nn.parallel.DistributedDataParallel(model, static_graph=ARGS.get('staticGraph', False),
                                              find_unused_parameters=mode == 'unused', **kwargs)
    buffers_at_start = [b.reshape(-1).tolist() for b in model.buffers()]
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rows = B // world
    losses = []
    for step in range(steps):
        opt.zero_grad()
        if mode == 'unused':
            model.use_a = step % 2 == 0
        if mode == 'noSync':
            x1, y1 = batch(rows, 2 * step * B + rank * rows, dtype)
            with net.no_sync():
                F.mse_loss(net(x1), y1).backward()
        at = (2 * step + 1 if mode == 'noSync' else step) * B + rank * rows
        x, y = batch(rows, at, dtype)
        loss = F.mse_loss(net(x), y)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    out = {'weights': [p.detach().reshape(-1).tolist() for p in model.parameters()], 'losses': losses}
    if mode == 'bn':
        out['buffersAtStart'] = buffers_at_start
    return {'ddp': out}


def store(rank):
    """The Node worker's store scenario: a TCPStore served by rank 0, PrefixStores over it."""
    import os
    import time
    s = dist.TCPStore(os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT']), 2, rank == 0, datetime.timedelta(seconds=20))
    p = dist.PrefixStore('job', s)
    q = dist.PrefixStore('inner', p)
    p.set(f'from{rank}', f'hello from {rank}')
    q.set(f'deep{rank}', bytes([rank, 255, 0]))
    added = p.add('count', 1 + rank)
    p.wait([f'from{1 - rank}', f'inner/deep{1 - rank}'])
    s.wait([f'job/inner/deep{1 - rank}'], datetime.timedelta(seconds=5))
    res = {
        'other': p.get(f'from{1 - rank}').decode(),
        'raw': s.get(f'job/from{1 - rank}').decode(),
        'deep': list(q.get(f'deep{1 - rank}')),
        'checkPrefixed': s.check([f'job/from{rank}', 'job/count']),
        'checkMissing': p.check(['nope']),
        'addedInRange': added in (1 + rank, 3),
    }
    p.add('done', 1)
    p.wait(['done'])
    while int(p.get('done')) < 2:
        time.sleep(0.02)
    res['count'] = int(p.get('count'))
    res['deleted'] = p.delete_key('from1') if rank == 1 else None
    p.add('finished', 1)
    if rank == 0:
        while int(p.get('finished')) < 2:
            time.sleep(0.02)
    return res


def main():
    import os
    if SCENARIO == 'store':
        rank = int(os.environ['RANK'])
        sys.stdout.write(json.dumps({'rank': rank, 'results': store(rank)}) + '\n')
        return
    timeout = ARGS.get('timeout')
    kwargs = {'timeout': datetime.timedelta(milliseconds=timeout)} if timeout else {}
    if ARGS.get('initMethod'):
        kwargs.update(init_method=ARGS['initMethod'], rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE']))
    dist.init_process_group('gloo', **kwargs)
    rank = dist.get_rank()
    world = dist.get_world_size()
    if SCENARIO == 'collectives':
        results = collectives(rank, world)
    elif SCENARIO == 'ddp':
        results = ddp(rank, world)
    else:
        raise SystemExit(f'unknown scenario {SCENARIO}')
    sys.stdout.write(json.dumps({'rank': rank, 'results': results}) + '\n')
    sys.stdout.flush()
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
