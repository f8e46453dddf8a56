"""A small evaluator for Cloudflare's Rules language (WAF expressions), for `edgec trace`.

wirefilter's Python binding parses expressions but cannot execute them. This evaluates the subset a
URL decides (host, path, query, method), in three-valued logic: a comparison on a field it is not
given is unknown, and `false and unknown` is still false.
"""

from __future__ import annotations

import re

import octorules_wirefilter
import re2

Tri = bool | None  # True: certainly, False: certainly not, None: depends on what is not known

class _Unsupported(Exception):
    """Syntax this evaluator does not read: the rule is then 'may match'."""


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
_TOKEN = re.compile(r"""\s*(?:
    (?P<raw>r(?P<hashes>\#*)"(?P<body>.*?)"(?P=hashes))
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|>=|<=|&&|\|\||\^\^|[<>~!(){}\[\],*])
  | (?P<word>\$?[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<atom>[0-9A-Fa-f:][0-9A-Fa-f.:/]*)
)""", re.X | re.S)
_OPERATORS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "~": "matches"}
_COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge", "contains", "matches", "in", "wildcard", "strict"}


def _tokens(expression: str) -> list[tuple[str, str]]:
    out, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match:
            raise _Unsupported(expression[position:])
        position = match.end()
        kind = next(k for k in ("raw", "string", "op", "word", "atom") if match.group(k) is not None)
        text = match.group("body") if kind == "raw" else match.group(kind)
        out.append(("string" if kind == "raw" else kind, text))
    return out


def evaluate_expression(expression: str, fields: dict[str, object]) -> Tri:
    """Does the rule match? True, False, or None when it depends on something `fields` does not hold."""
    try:
        parser = _Parser(_tokens(expression), fields)
        result = parser.expression()
        if parser.position != len(parser.tokens):
            raise _Unsupported("trailing tokens")
        return result
    except (_Unsupported, IndexError):
        return None


def _and(a: Tri, b: Tri) -> Tri:
    return False if a is False or b is False else None if a is None or b is None else True


def _or(a: Tri, b: Tri) -> Tri:
    return True if a is True or b is True else None if a is None or b is None else False


def _xor(a: Tri, b: Tri) -> Tri:
    return None if a is None or b is None else a != b


_LOGIC = ((("or", "||"), _or), (("xor", "^^"), _xor), (("and", "&&"), _and))


def _truth(value: object) -> Tri:
    return value if isinstance(value, bool) else None


class _Parser:
    """Recursive descent, evaluating as it goes; not binds tighter than and, then xor, then or (as in wirefilter)."""

    def __init__(self, tokens: list[tuple[str, str]], fields: dict[str, object]) -> None:
        self.tokens, self.fields, self.position = tokens, fields, 0

    def _peek(self) -> str:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else ""

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _accept(self, *texts: str) -> bool:
        if self._peek() in texts:
            self.position += 1
            return True
        return False

    def expression(self, level: int = 0) -> Tri:
        """One precedence level of _LOGIC (loosest first); below the last come not and comparisons."""
        if level == len(_LOGIC):
            return self._unary()
        words, combine = _LOGIC[level]
        value = self.expression(level + 1)
        while self._accept(*words):
            value = combine(value, self.expression(level + 1))
        return value

    def _unary(self) -> Tri:
        if self._accept("not", "!"):
            value = self._unary()
            return None if value is None else not value
        if self._accept("("):
            value = self.expression()
            if not self._accept(")"):
                raise _Unsupported("unbalanced parenthesis")
            return value
        return self._comparison()

    def _comparison(self) -> Tri:
        return _truth(self._compared(self._operand()))

    def _compared(self, left: object) -> object:
        """`left OPERATOR literal` when an operator follows (True, False or UNKNOWN), else `left` itself."""
        operator = _OPERATORS.get(self._peek(), self._peek())
        if operator not in _COMPARISONS:
            return left
        self.position += 1
        if operator == "strict" and not self._accept("wildcard"):
            raise _Unsupported("strict without wildcard")
        result = _compare(operator, left, self._literal())
        return UNKNOWN if result is None else result

    def _operand(self) -> object:
        kind, text = self._take()
        if kind != "word":
            raise _Unsupported(text)
        if text in ("true", "false"):
            return text == "true"
        if self._accept("("):
            return _call(text, self._arguments())
        value = self.fields.get(text, UNKNOWN)
        while self._accept("["):  # a map or array element: headers, arguments, ...
            while not self._accept("]"):
                self._take()
            value = UNKNOWN
        return value

    def _arguments(self) -> list[object]:
        arguments: list[object] = []
        while not self._accept(")"):
            arguments.append(self._argument())
            self._accept(",")
        return arguments

    def _argument(self) -> object:
        """A literal, a field, a function's result, or a comparison (as in any(... eq ...))."""
        if self.tokens[self.position][0] != "word":
            return self._literal()
        return self._compared(self._operand())

    def _literal(self) -> object:
        kind, text = self._take()
        if text == "{":
            items = []
            while not self._accept("}"):
                items.append(self._literal())
            return frozenset(items) if UNKNOWN not in items else UNKNOWN
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1]) if text.startswith('"') else text
        if kind == "atom" and text.isdigit():
            return int(text)
        if kind == "atom" and re.fullmatch(r"\d+\.\.\d+", text):
            low, high = text.split("..")
            return range(int(low), int(high) + 1)
        return UNKNOWN  # IP addresses and ranges, lists ($name), other fields: only unknown fields use them


_FUNCTIONS = {"lower", "upper", "starts_with", "ends_with"}


def _call(name: str, arguments: list[object]) -> object:
    if name not in _FUNCTIONS or not arguments or not all(isinstance(a, str) for a in arguments):
        return UNKNOWN
    text = str(arguments[0])
    if name == "lower":
        return text.lower()
    if name == "upper":
        return text.upper()
    suffix = str(arguments[1]) if len(arguments) > 1 else ""
    return text.startswith(suffix) if name == "starts_with" else text.endswith(suffix)


def _compare(operator: str, left: object, right: object) -> Tri:
    if left is UNKNOWN or right is UNKNOWN:
        return None
    if operator in ("eq", "ne"):
        return (left == right) == (operator == "eq")
    if operator == "in":
        if not isinstance(right, frozenset):
            return None
        return any(left in item if isinstance(item, range) else left == item for item in right)
    if not isinstance(left, str) or not isinstance(right, str):
        return _order(operator, left, right)
    if operator == "contains":
        return right in left
    if operator == "matches":
        try:
            return re2.search(right, left) is not None
        except re2.error:
            return None
    pattern = ".*".join(re.escape(part) for part in right.split("*"))  # wildcard: only * is special
    return re.fullmatch(pattern, left, re.S if operator == "strict" else re.S | re.I) is not None


def _order(operator: str, left: object, right: object) -> Tri:
    if not isinstance(left, int) or not isinstance(right, int):
        return None
    return {"lt": left < right, "le": left <= right, "gt": left > right, "ge": left >= right}.get(operator)


def unknowns(expression: str, fields: dict[str, object]) -> str:
    """Which fields and functions make a rule uncertain, as wirefilter reads the expression."""
    parsed = octorules_wirefilter.parse_expression(expression)
    unknown = [f for f in parsed.get("fields", []) if f not in fields]
    functions = [f for f in parsed.get("functions", []) if f not in _FUNCTIONS]
    names = unknown + [f"{f}()" for f in functions]
    return "depends on " + ", ".join(dict.fromkeys(names)) if names else "not evaluated"
