"""Re-creation (from its description) of M2G(2,4,4) + the V-Net soft-Dice loss, with hooks
to record the LeakyReLU inputs and to override the LeakyReLU derivative at chosen voxels."""
import torch, torch.nn as nn, torch.nn.functional as F
from safetensors.torch import load_file

import os
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'Fixtures', 'pytorch')
ORACLE = os.path.join(FIXTURES, 'train_cmff_step.safetensors')

class LReluOverride(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope, idx, dval):
        ctx.save_for_backward(x)
        ctx.slope, ctx.idx, ctx.dval = slope, idx, dval
        return F.leaky_relu(x, slope)
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = torch.where(x > 0, torch.ones_like(x), torch.full_like(x, ctx.slope))
        d = d.reshape(-1).clone()
        d[torch.as_tensor(ctx.idx, dtype=torch.long)] = torch.as_tensor(ctx.dval, dtype=d.dtype)
        return g * d.view_as(x), None, None, None

class LRelu(nn.Module):
    """Drop-in for nn.LeakyReLU (no parameters, same state_dict). Records its input in
    self.rec if self.record; overrides the derivative at flat indices self.idx with self.dval."""
    def __init__(self, slope=0.01):
        super().__init__(); self.slope = slope; self.record = False; self.rec = None
        self.idx = None; self.dval = None; self.by_call = None; self.calls = 0
    def forward(self, x):
        if self.record: self.rec = x.detach().clone()
        if self.by_call is not None:   # per-call pins {call_number: (idx, dval)} for modules called repeatedly
            self.idx, self.dval = self.by_call.get(self.calls, (None, None)); self.calls += 1
        if self.idx is not None and len(self.idx) > 0:
            return LReluOverride.apply(x, self.slope, self.idx, self.dval)
        return F.leaky_relu(x, self.slope)

def cnl(cin, cout, slope=0.01):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, 1, 1, bias=True), nn.InstanceNorm3d(cout), LRelu(slope))

def up(x):
    return F.interpolate(x, scale_factor=2, mode='trilinear', align_corners=True)

class M3DUNet(nn.Module):
    def __init__(self, cin, ncls, f, slope=0.01, softmax=True):
        super().__init__()
        self.conv_last = nn.Conv3d(f, ncls, 1); self.softmax = softmax
        s = slope
        self.conv_norm_lrelu_11 = cnl(cin, f, s);    self.conv_norm_lrelu_12 = cnl(f, f, s)
        self.conv_norm_lrelu_13 = cnl(2*f, f, s);    self.conv_norm_lrelu_14 = cnl(f, f, s)
        self.conv_norm_lrelu_21 = cnl(f, 2*f, s);    self.conv_norm_lrelu_22 = cnl(2*f, 2*f, s)
        self.conv_norm_lrelu_23 = cnl(4*f, 2*f, s);  self.conv_norm_lrelu_24 = cnl(2*f, f, s)
        self.conv_norm_lrelu_31 = cnl(2*f, 4*f, s);  self.conv_norm_lrelu_32 = cnl(4*f, 4*f, s)
        self.conv_norm_lrelu_33 = cnl(8*f, 4*f, s);  self.conv_norm_lrelu_34 = cnl(4*f, 2*f, s)
        self.conv_norm_lrelu_41 = cnl(4*f, 8*f, s);  self.conv_norm_lrelu_42 = cnl(8*f, 8*f, s)
        self.conv_norm_lrelu_43 = cnl(16*f, 8*f, s); self.conv_norm_lrelu_44 = cnl(8*f, 4*f, s)
        self.conv_norm_lrelu_51 = cnl(8*f, 16*f, s); self.conv_norm_lrelu_52 = cnl(16*f, 8*f, s)
    def forward(self, x):
        p = lambda t: F.max_pool3d(t, 2, 2)
        x1 = self.conv_norm_lrelu_12(self.conv_norm_lrelu_11(x))
        x2 = self.conv_norm_lrelu_22(self.conv_norm_lrelu_21(p(x1)))
        x3 = self.conv_norm_lrelu_32(self.conv_norm_lrelu_31(p(x2)))
        x4 = self.conv_norm_lrelu_42(self.conv_norm_lrelu_41(p(x3)))
        x5 = self.conv_norm_lrelu_52(self.conv_norm_lrelu_51(p(x4)))
        x4 = self.conv_norm_lrelu_44(self.conv_norm_lrelu_43(torch.cat([up(x5), x4], 1)))
        x3 = self.conv_norm_lrelu_34(self.conv_norm_lrelu_33(torch.cat([up(x4), x3], 1)))
        x2 = self.conv_norm_lrelu_24(self.conv_norm_lrelu_23(torch.cat([up(x3), x2], 1)))
        x1 = self.conv_norm_lrelu_14(self.conv_norm_lrelu_13(torch.cat([up(x2), x1], 1)))
        x0 = self.conv_last(x1)
        xs = torch.softmax(x0, 1) if self.softmax else x0
        return xs, x0, x1, x2

class M2G(nn.Module):
    def __init__(self, cin, ncls, f):
        super().__init__()
        self.n = ncls
        self.net_0 = M3DUNet(cin, ncls, f); self.net_1 = M3DUNet(cin, ncls, f)
        self.conv_nl_1 = cnl(2*f, f); self.conv_nl_2 = cnl(2*f, f); self.conv_nl_f = cnl(2*f, f)
        self.conv_last = nn.Conv3d(4*f, ncls, 1)
    def forward(self, x0, x1):
        s0, _, a1, a2 = self.net_0(x0)
        s1, _, b1, b2 = self.net_1(x1)
        y1 = self.conv_nl_1(torch.cat([a1, b1], 1))
        y2 = up(self.conv_nl_2(torch.cat([a2, b2], 1)))
        y = self.conv_nl_f(torch.cat([y1, y2], 1))
        m = s0 + s1
        y = torch.cat([y * m[:, i:i+1] for i in range(self.n)], 1)
        return s0, s1, torch.softmax(self.conv_last(y), 1)

def dice_loss(pred, target, eps=1e-5):
    r = [2, 3, 4]
    ps = (pred * pred).sum(r); ts = (target * target).sum(r); inter = (pred * target).sum(r)
    return 1 - ((2 * inter + eps) / (ps + ts + eps)).mean()

def lrelus(model):
    return {n[:-2]: m for n, m in model.named_modules() if isinstance(m, LRelu)}

def build(oracle, dtype=torch.float32):
    m = M2G(2, 4, 4)
    sd = {k[len('param.'):]: v for k, v in oracle.items() if k.startswith('param.')}
    m.load_state_dict(sd, strict=True)
    return m.to(dtype)

def step_grads(m, oracle, step='step1', dtype=torch.float32):
    x0 = oracle[f'{step}.x0'].to(dtype); x1 = oracle[f'{step}.x1'].to(dtype)
    lab = oracle[f'{step}.labels'].long()
    t = F.one_hot(lab, 4).permute(3, 0, 1, 2).unsqueeze(0).to(dtype)[:, 1:]
    m.zero_grad(set_to_none=True)
    s0, s1, sf = m(x0, x1)
    l0 = dice_loss(s0[:, 1:], t); l1 = dice_loss(s1[:, 1:], t); lf = dice_loss(sf[:, 1:], t)
    loss = (l0 + l1 + lf) / 3
    loss.backward()
    g = {n: p.grad.detach().clone() for n, p in m.named_parameters()}
    return dict(loss=loss.item(), loss_0=l0.item(), loss_1=l1.item(), loss_f=lf.item()), g

def rel(a, b):
    a = a.double(); b = b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()
