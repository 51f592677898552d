"""QDQ int8 rewrite of ONNX graphs with the onnx helper API.

onnxruntime's Python quantizer is not installed here, so the rewrite is done
by hand, in the form ONNX Runtime's CPU provider fuses into int8 kernels:

- each weight initializer becomes symmetric per-channel int8 +
  DequantizeLinear;
- a Conv/Gemm bias whose input activation and weight are both quantized
  becomes int32 with scale = input_scale * weight_scale;
- each listed activation gets a QuantizeLinear/DequantizeLinear pair (uint8,
  asymmetric, range from calibration) right after its producer.

Used by scripts/make_testclip.py (models/testclip) and
scripts/tinyclip/quantize.py (models/tinyclip). Pure numpy + onnx, so the
result is a deterministic function of the float graph and the ranges.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper


def quant_params_u8(lo, hi):
    """Asymmetric uint8 scale and zero point covering [lo, hi] and 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = (hi - lo) / 255.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def quantize_weight(w, axis):
    """Symmetric per-channel int8 along axis."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def qdq_rewrite(model, weights, act_ranges, producer_name):
    """weights: initializer name -> per-channel axis. act_ranges: activation
    tensor name -> (min, max); each gets a Q/DQ pair right after its producer.
    Biases of Conv/Gemm whose input and weight are both quantized become int32."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    new_inits, pre_nodes = [], []
    act_q = {}  # tensor -> (scale, zp)
    for t, (lo, hi) in act_ranges.items():
        act_q[t] = quant_params_u8(lo, hi)

    w_scale = {}
    for name, axis in weights.items():
        w = numpy_helper.to_array(inits[name])
        q, s = quantize_weight(w, axis)
        w_scale[name] = s
        new_inits += [
            numpy_helper.from_array(q, name + "_quantized"),
            numpy_helper.from_array(s, name + "_scale"),
            numpy_helper.from_array(np.zeros_like(s, dtype=np.int8), name + "_zero_point"),
        ]
        pre_nodes.append(helper.make_node(
            "DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"],
            [name], name=name + "_DequantizeLinear", axis=axis))

    biases = {}
    for n in g.node:
        if n.op_type in ("Conv", "Gemm") and len(n.input) == 3:
            x, w, b = n.input
            if x in act_q and w in w_scale and b in inits:
                biases[b] = act_q[x][0] * w_scale[w]
    for b, s in biases.items():
        bv = numpy_helper.to_array(inits[b])
        s = s.astype(np.float32)
        q = np.round(bv / s).astype(np.int32)
        new_inits += [
            numpy_helper.from_array(q, b + "_quantized"),
            numpy_helper.from_array(s, b + "_scale"),
            numpy_helper.from_array(np.zeros_like(q), b + "_zero_point"),
        ]
        pre_nodes.append(helper.make_node(
            "DequantizeLinear", [b + "_quantized", b + "_scale", b + "_zero_point"],
            [b], name=b + "_DequantizeLinear", axis=0))

    replaced = set(weights) | set(biases)
    kept = [i for i in g.initializer if i.name not in replaced]

    def qdq_nodes(t):
        s, zp = act_q[t]
        new_inits.extend([
            numpy_helper.from_array(np.array(s, dtype=np.float32), t + "_scale"),
            numpy_helper.from_array(np.array(zp, dtype=np.uint8), t + "_zero_point"),
        ])
        return [
            helper.make_node("QuantizeLinear", [t, t + "_scale", t + "_zero_point"], [t + "_q"],
                             name=t + "_QuantizeLinear"),
            helper.make_node("DequantizeLinear", [t + "_q", t + "_scale", t + "_zero_point"],
                             [t + "_dq"], name=t + "_DequantizeLinear"),
        ]

    nodes = list(pre_nodes)
    for t in (i.name for i in g.input):
        if t in act_q:
            nodes += qdq_nodes(t)
    for n in g.node:
        node = onnx.NodeProto()
        node.CopyFrom(n)
        for k, inp in enumerate(node.input):
            if inp in act_q:
                node.input[k] = inp + "_dq"
        nodes.append(node)
        for out in n.output:
            if out in act_q:
                nodes += qdq_nodes(out)

    graph = helper.make_graph(nodes, g.name + "_qdq", list(g.input), list(g.output),
                              kept + new_inits)
    out = helper.make_model(graph, opset_imports=list(model.opset_import),
                            producer_name=producer_name)
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out
