//! The tiny part of Python's `eval` that Salt's compound matcher relies on.
//!
//! Salt turns a compound target into a string such as `True and ( False or not True )` and
//! hands it to `eval`; a syntax error or a runtime error (`True ( )` calls a bool) makes the
//! whole target not match. This module parses that token language with Python's grammar
//! (`or` < `and` < `not` < call trailers < atoms) and evaluates it with short-circuiting, so
//! an error in a branch Python never evaluates does not count.

/// One token of the expression Salt builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// `True`, `False` or `[]` (the ipcidr matcher's answer to an invalid target): a value
    /// with its truthiness.
    Atom(bool),
    /// `and`.
    And,
    /// `or`.
    Or,
    /// `not`.
    Not,
    /// `(`.
    Open,
    /// `)`.
    Close,
}

impl Token {
    /// The operator token spelled `word`, if it is one.
    pub fn operator(word: &str) -> Option<Token> {
        match word {
            "and" => Some(Token::And),
            "or" => Some(Token::Or),
            "not" => Some(Token::Not),
            "(" => Some(Token::Open),
            ")" => Some(Token::Close),
            _ => None,
        }
    }
}

#[derive(Debug)]
enum Expr {
    Atom(bool),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `callee(arg)`: always a `TypeError` when evaluated.
    Call(Box<Expr>, Option<Box<Expr>>),
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    fn eat(&mut self, t: Token) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn disjunction(&mut self) -> Option<Expr> {
        let mut parts = vec![self.conjunction()?];
        while self.eat(Token::Or) {
            parts.push(self.conjunction()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn conjunction(&mut self) -> Option<Expr> {
        let mut parts = vec![self.inversion()?];
        while self.eat(Token::And) {
            parts.push(self.inversion()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn inversion(&mut self) -> Option<Expr> {
        if self.eat(Token::Not) {
            return Some(Expr::Not(Box::new(self.inversion()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Option<Expr> {
        let mut expr = self.atom()?;
        while self.eat(Token::Open) {
            let arg = if self.eat(Token::Close) {
                None
            } else {
                let a = self.disjunction()?;
                if !self.eat(Token::Close) {
                    return None;
                }
                Some(Box::new(a))
            };
            expr = Expr::Call(Box::new(expr), arg);
        }
        Some(expr)
    }

    fn atom(&mut self) -> Option<Expr> {
        match self.peek()? {
            Token::Atom(b) => {
                self.pos += 1;
                Some(Expr::Atom(b))
            }
            Token::Open => {
                self.pos += 1;
                if self.eat(Token::Close) {
                    // `()`: the empty tuple, falsy.
                    return Some(Expr::Atom(false));
                }
                let inner = self.disjunction()?;
                self.eat(Token::Close).then_some(inner)
            }
            _ => None,
        }
    }
}

/// Evaluate; `Err` is a Python runtime error.
fn eval(expr: &Expr) -> Result<bool, ()> {
    match expr {
        Expr::Atom(b) => Ok(*b),
        Expr::Not(e) => Ok(!eval(e)?),
        Expr::And(parts) => {
            let mut last = true;
            for p in parts {
                last = eval(p)?;
                if !last {
                    return Ok(false);
                }
            }
            Ok(last)
        }
        Expr::Or(parts) => {
            let mut last = false;
            for p in parts {
                last = eval(p)?;
                if last {
                    return Ok(true);
                }
            }
            Ok(last)
        }
        Expr::Call(callee, arg) => {
            eval(callee)?;
            if let Some(a) = arg {
                eval(a)?;
            }
            Err(())
        }
    }
}

/// `bool(eval(" ".join(tokens)))`, with any syntax or runtime error read as `false`, as Salt's
/// compound matcher does. `None` means the expression did not parse.
pub fn eval_tokens(tokens: &[Token]) -> Option<bool> {
    let mut parser = Parser {
        toks: tokens,
        pos: 0,
    };
    let expr = parser.disjunction()?;
    if parser.pos != tokens.len() {
        return None;
    }
    eval(&expr).ok()
}

#[cfg(test)]
mod tests {
    use super::eval_tokens;
    use super::Token::{self, *};

    const T: Token = Atom(true);
    const F: Token = Atom(false);

    #[test]
    fn python_precedence_and_errors() {
        assert_eq!(eval_tokens(&[T, And, F]), Some(false));
        assert_eq!(eval_tokens(&[T, Or, F, And, F]), Some(true));
        assert_eq!(eval_tokens(&[Not, T, Or, T]), Some(true));
        assert_eq!(eval_tokens(&[Open, T, Or, F, Close, And, F]), Some(false));
        assert_eq!(eval_tokens(&[Not, Not, T]), Some(true));
        assert_eq!(eval_tokens(&[]), None);
        assert_eq!(eval_tokens(&[T, T]), None);
        assert_eq!(eval_tokens(&[T, And]), None);
        assert_eq!(eval_tokens(&[Open, T]), None);
        assert_eq!(eval_tokens(&[T, Close]), None);
        assert_eq!(eval_tokens(&[Open, Close]), Some(false));
        // `True ( )` calls a bool: TypeError when evaluated, skipped by short-circuit.
        assert_eq!(eval_tokens(&[T, Open, Close]), None);
        assert_eq!(eval_tokens(&[T, Or, T, Open, Close]), Some(true));
        assert_eq!(eval_tokens(&[F, And, T, Open, F, Close]), Some(false));
        assert_eq!(eval_tokens(&[T, Open, F, Close, Or, T]), None);
    }
}
