"""einsum: any sum of products over named indices, and its gradient, another einsum.

For ``out = einsum("ij,jk->ik", a, b)`` the gradient of each operand is the einsum that
puts the output's gradient in the output's place and the operand's indices in the
output's: ``ā = einsum("ik,jk->ij", ḡ, b)``. Two details complete the rule:

* an index only the operand has (summed within it, as j in ``"ij->i"``) is broadcast
  back: a ones vector of its size joins the einsum;
* a repeated index (a diagonal, as in ``"ii->i"``) gets its gradient on the diagonal: the
  einsum over distinct indices is multiplied by identity matrices.

The equation reaching the primitive is explicit (``->``) and has no ellipsis: the public
function :func:`ember.einsum` names the ellipsis dimensions and broadcasts them.
"""

from __future__ import annotations

import string

from ember.autograd.primitives import defvjp_argnum, primitive


@primitive(saves="inputs")
def einsum(xp, *operands, equation):
    """sum over the indices absent from the output of the product of the operands;
    VJP: the einsum of the output's gradient with the other operands (see the module)."""
    return xp.einsum(equation, *operands, optimize=len(operands) > 2)


def _einsum_vjp(argnum, xp, g, ans, *operands, equation):
    inputs, output = equation.split("->")
    subscripts = inputs.split(",")
    target = subscripts[argnum]
    sizes = {}
    for letters, operand in zip(subscripts, operands, strict=True):
        sizes.update(zip(letters, operand.shape, strict=True))
    distinct = "".join(dict.fromkeys(target))
    terms, arrays = [output], [g]
    for i, (letters, operand) in enumerate(zip(subscripts, operands, strict=True)):
        if i != argnum:
            terms.append(letters)
            arrays.append(operand)
    present = set("".join(terms))
    for letter in distinct:
        if letter not in present:  # summed inside this operand only: broadcast back
            terms.append(letter)
            arrays.append(xp.ones(sizes[letter], dtype=g.dtype))
    grad = xp.einsum(",".join(terms) + "->" + distinct, *arrays,
                     optimize=len(arrays) > 2)
    if len(distinct) == len(target):
        return grad
    # a repeated index: the gradient lies on the diagonal
    unused = iter(c for c in string.ascii_letters if c not in sizes)
    seen, placed, eyes = set(), "", []
    for letter in target:
        if letter in seen:
            fresh = next(unused)
            placed += fresh
            eyes.append((letter + fresh, xp.eye(sizes[letter], dtype=g.dtype)))
        else:
            seen.add(letter)
            placed += letter
    equation = ",".join([distinct] + [e for e, _ in eyes]) + "->" + placed
    return xp.einsum(equation, grad, *[m for _, m in eyes])


defvjp_argnum(einsum, _einsum_vjp)
