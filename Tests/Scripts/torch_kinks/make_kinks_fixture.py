"""Make train_cmff_kinks.safetensors: for each oracle step, the LeakyReLU-input voxels within TAU of
the kink (|n| < TAU in the oracle's own float32 forward), with the oracle's derivative choice there.
Also checks that float64 pinned to these choices reproduces the oracle's gradients (rounding floor).
usage: python make_kinks_fixture.py [out.safetensors]   (needs torch, safetensors; CPU is enough)
Indices are stored as F32 (exact below 2^24), the dtype cmfseg's safetensors reader takes."""
import torch, sys, json, os
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cmff import *
from safetensors.torch import save_file
TAU = 3e-4
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FIXTURES, 'train_cmff_kinks.safetensors')
o = load_file(ORACLE)
def model(step, dtype):
    m = build(o, dtype)
    if step == 'step2':
        m.load_state_dict({k[len('step1.after.'):]: v for k, v in o.items() if k.startswith('step1.after.')})
    return m.to(dtype)
def run(step, dtype, pins=None):
    m = model(step, dtype); ls = lrelus(m)
    for l in ls.values(): l.record = True
    for blk, (idx, val) in (pins or {}).items(): ls[blk].idx = idx; ls[blk].dval = val
    L, g = step_grads(m, o, step, dtype)
    return L, g, {k: l.rec.reshape(-1) for k, l in ls.items()}, {k: list(l.rec.shape) for k, l in ls.items()}
tensors, meta = {}, {}
for step in ['step1', 'step2']:
    L32, g32, n32, shapes = run(step, torch.float32)
    for k in ['loss', 'loss_0', 'loss_1', 'loss_f']:
        assert L32[k] == o[f'{step}.{k}'].item(), (step, k)        # bit-exact reproduction
    names = [n for n in g32 if not (n.endswith('.bias') and ('lrelu' in n or 'conv_nl' in n))]
    assert all(torch.equal(g32[n], o[f'{step}.grad.{n}']) for n in names)
    _, _, n64, _ = run(step, torch.float64)
    pins, total = {}, 0
    for blk in n32:
        idx = (n32[blk].abs() < TAU).nonzero().reshape(-1)
        if len(idx) == 0: continue
        d = torch.where(n32[blk][idx] > 0, 1.0, 0.01).float()
        pins[blk] = (idx.tolist(), d.double())
        tensors[f'{step}.kinks.{blk}.index'] = idx.to(torch.float32)
        tensors[f'{step}.kinks.{blk}.deriv'] = d
        tensors[f'{step}.kinks.{blk}.n'] = n32[blk][idx].float()
        total += len(idx)
    _, g64p, _, _ = run(step, torch.float64, pins)
    worst = max(rel(g64p[n], o[f'{step}.grad.{n}']) for n in names)
    nflip = sum(int(((n32[b] > 0) != (n64[b] > 0)).sum()) for b in n32)
    print(f'{step}: {total} pinned voxels (|n|<{TAU:g}); f32/f64 sign disagreements {nflip}; '
          f'float64 pinned to oracle choices vs oracle: max rel {worst:.2e}')
    meta[f'{step}.shapes'] = json.dumps(shapes)
meta.update(tau=str(TAU), source='torch ' + torch.__version__ + ', bit-exact re-run of train_cmff_step.safetensors (step2 from step1.after.*)',
            layout='<step>.kinks.<block>.index: flat NCDHW index into that block\'s LeakyReLU input [1,C,D,H,W] (= InstanceNorm output); '
                   '.deriv: the oracle\'s LeakyReLU derivative there (1 if n>0 else 0.01); .n: oracle float32 n. '
                   'block = PyTorch module path of the conv-norm-lrelu Sequential (net_0.conv_norm_lrelu_13, conv_nl_1, ...)')
save_file(tensors, out, metadata=meta)
import os; print(out, os.path.getsize(out), 'bytes')
