// The visitor behind -Wautockpt-* and autockpt-scan (see Checks.h).  The wording of each warning
// says what happens at a checkpoint and what the user can do; docs/design.md C4 lists them.
// -Wautockpt-setjmp follows the pass's behaviour (P15: a restore re-runs each setjmp that
// dominates its safe point; a function where one does not is excluded, P7).
#include "Checks.h"

#include "Compat.h"

#include "clang/AST/Attr.h"
#include "clang/AST/Expr.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/Stmt.h"
#include "clang/AST/StmtOpenMP.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang;

namespace autockpt {

const char *kindName(Kind K) {
  switch (K) {
  case Kind::Setjmp: return "setjmp";
  case Kind::Fork: return "fork";
  case Kind::Sockets: return "sockets";
  case Kind::Mmap: return "mmap";
  case Kind::Asm: return "asm";
  case Kind::UnsupportedMpi: return "unsupported-mpi";
  case Kind::NoSave: return "nosave";
  case Kind::Loop: return "loops";
  case Kind::NoPoll: return "nopoll";
  case Kind::SafePoint: return "safepoint";
  case Kind::Threads: return "threads";
  case Kind::OpenMPTask: return "openmp-task";
  case Kind::Mpi: return "mpi";
  case Kind::Cuda: return "cuda";
  case Kind::SignalHandler: return "signal-handler";
  case Kind::Varargs: return "varargs";
  case Kind::ThreadLocal: return "thread-local";
  case Kind::Function: return "function";
  }
  return "?";
}

bool isNoSave(const VarDecl &V) {
  for (const auto *A : V.specific_attrs<AnnotateAttr>())
    if (A->getAnnotation() == "autockpt.nosave")
      return true;
  return false;
}

namespace {

bool isProcessCall(StringRef N) {
  return llvm::StringSwitch<bool>(N)
      .Cases("fork", "vfork", "system", "popen", "posix_spawn", "posix_spawnp", "clone", true)
      .Cases("execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "fexecve", true)
      .Default(false);
}

bool isSocketCall(StringRef N) {
  return llvm::StringSwitch<bool>(N)
      .Cases("socket", "socketpair", "accept", "accept4", "connect", "bind", "listen", true)
      .Default(false);
}

bool isMappingCall(StringRef N) {
  return llvm::StringSwitch<bool>(N)
      .Cases("mmap", "mmap64", "mremap", "shm_open", "shmget", "shmat", "memfd_create", true)
      .Default(false);
}

// MPI families autockpt does not checkpoint: one-sided (windows), MPI-IO, dynamic processes.
bool isUnsupportedMpi(StringRef N) {
  return N.starts_with("MPI_Win_") || N.starts_with("MPI_Put") || N.starts_with("MPI_Get") ||
         N.starts_with("MPI_Accumulate") || N.starts_with("MPI_Rput") ||
         N.starts_with("MPI_Rget") || N.starts_with("MPI_File_") ||
         N.starts_with("MPI_Comm_spawn") || N == "MPI_Comm_connect" || N == "MPI_Comm_accept";
}

// Whether N (MPI_ or PMPI_, MPIX_) is a C binding that the MPI layer neither wraps nor lets
// through (docs/design.md M18): the pass refuses it, and the program stops with status 70 when it
// calls it.  The same lists as the pass's (passes/MpiCalls.cpp).
bool isRefusedMpi(StringRef N) {
  static const llvm::StringSet<> Known = {
#define AUTOCKPT_REDIRECT(Name) #Name,
#define AUTOCKPT_BLOCKING(Name) #Name,
#define AUTOCKPT_MPI_ALLOWED(Name) #Name,
#include "autockpt/redirects_mpi.def"
#include "autockpt/mpi_allowed.def"
#undef AUTOCKPT_REDIRECT
#undef AUTOCKPT_BLOCKING
#undef AUTOCKPT_MPI_ALLOWED
  };
  StringRef C = N.starts_with("PMPI") ? N.drop_front(1) : N;
  return (C.starts_with("MPI_") || C.starts_with("MPIX_")) && !Known.contains(C);
}

// The family of an MPI call, for the scan's report: how autockpt treats it (docs/design.md M*).
const char *mpiFamily(StringRef N) {
  StringRef F = N.starts_with("PMPI_") ? N.drop_front(5) : N.drop_front(4);
  auto Any = [&](std::initializer_list<StringRef> Prefixes) {
    for (StringRef P : Prefixes)
      if (F.starts_with(P))
        return true;
    return false;
  };
  if (Any({"Wait", "Test", "Request_", "Cancel", "Start"}))
    return "completion";
  if (Any({"Ibarrier", "Ibcast", "Ireduce", "Iallreduce", "Igather", "Iallgather", "Iscatter",
           "Ialltoall", "Iscan", "Iexscan", "Ineighbor"}))
    return "nonblocking collective";
  if (Any({"Send", "Recv", "Isend", "Irecv", "Ssend", "Issend", "Bsend", "Ibsend", "Rsend",
           "Irsend", "Probe", "Iprobe", "Mprobe", "Improbe", "Mrecv", "Imrecv", "Buffer_"}))
    return "point-to-point";
  if (Any({"Barrier", "Bcast", "Reduce", "Allreduce", "Gather", "Allgather", "Scatter",
           "Alltoall", "Scan", "Exscan", "Neighbor_"}))
    return "collective";
  if (Any({"Comm_", "Group_", "Cart", "Graph", "Dist_graph", "Intercomm_", "Topo_"}))
    return "communicators";
  if (Any({"Type_", "Op_", "Pack", "Unpack", "Get_count", "Get_elements"}))
    return "datatypes";
  return "setup";
}

class Finder : public RecursiveASTVisitor<Finder> {
 public:
  Finder(ASTContext &Ctx, const std::function<void(const Finding &)> &Report)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Report(Report) {}

  bool TraverseDecl(Decl *D) {
    if (!D)
      return true;
    if (!isa<TranslationUnitDecl>(D) && inSystemHeader(D->getLocation()))
      return true;  // what the system's headers do is not the user's to change
    auto *FD = dyn_cast<FunctionDecl>(D);
    if (!FD || !FD->doesThisDeclarationHaveABody())
      return RecursiveASTVisitor::TraverseDecl(D);
    const FunctionDecl *Outer = Current;
    Current = FD;
    add(Kind::Function, FD->getLocation(), FD->getNameAsString());
    if (FD->isVariadic())
      add(Kind::Varargs, FD->getLocation(), FD->getNameAsString());
    bool Ok = RecursiveASTVisitor::TraverseDecl(D);
    Current = Outer;
    return Ok;
  }

  bool shouldVisitTemplateInstantiations() const { return true; }

  bool VisitCallExpr(CallExpr *E) {
    const FunctionDecl *Callee = E->getDirectCallee();
    if (!Callee || !Callee->getIdentifier())
      return true;
    StringRef N = Callee->getName();
    SourceLocation Loc = E->getExprLoc();
    if (Callee->getBuiltinID() == Builtin::BI__builtin_annotation && E->getNumArgs() == 2) {
      if (auto *S = dyn_cast<StringLiteral>(E->getArg(1)->IgnoreParenImpCasts())) {
        if (S->getString() == "autockpt.nopoll")
          add(Kind::NoPoll, Loc, "#pragma autockpt nopoll");
        else if (S->getString() == "autockpt.safepoint")
          add(Kind::SafePoint, Loc, "#pragma autockpt safepoint");
      }
      return true;
    }
    if (!isCLibraryName(*Callee))
      return true;
    if (Callee->hasAttr<ReturnsTwiceAttr>() || N == "setjmp" || N == "_setjmp" ||
        N == "sigsetjmp" || N == "__sigsetjmp") {
      std::string Fn = Current ? "'" + Current->getNameAsString() + "'" : "this function";
      add(Kind::Setjmp, Loc, N.str(),
          "a restore of " + Fn + " calls '" + N.str() + "' again to set its buffer for this "
              "process (if it had run); a longjmp after a restart lands in the resumed frame, "
              "but a copy of a jmp_buf made before the checkpoint is not valid after it",
          "longjmp only to buffers set by a " + N.str() + " still on the stack, and do not copy "
          "jmp_bufs");
    } else if (isProcessCall(N)) {
      add(Kind::Fork, Loc, N.str(),
          "'" + N.str() + "' starts another process, which a checkpoint does not include: after "
          "a restart it is not running, and what it did is not undone",
          "let it finish before the program goes on, so that no checkpoint falls while it runs");
    } else if (isSocketCall(N)) {
      add(Kind::Sockets, Loc, N.str(),
          "a socket cannot be saved: a checkpoint warns about it and a restart does not "
          "re-create the connection",
          "connect again after a restart (close sockets before long computations)");
    } else if (isMappingCall(N)) {
      add(Kind::Mmap, Loc, N.str(),
          "memory mapped with '" + N.str() + "' is outside autockpt's heap: a checkpoint does "
          "not save it, and after a restart the mapping is gone",
          "allocate with malloc/new instead, or map it again after a restart");
    } else if (isUnsupportedMpi(N)) {
      add(Kind::UnsupportedMpi, Loc, N.str(),
          "autockpt does not checkpoint MPI one-sided communication, MPI-IO or process "
          "spawning: a restart after '" + N.str() + "' does not re-create its state",
          "keep these calls out of the checkpointed run, or close the window/file before it");
    } else if (isRefusedMpi(N)) {
      add(Kind::UnsupportedMpi, Loc, N.str(),
          "autockpt's MPI layer does not wrap '" + N.str() + "': the program stops with status "
          "70 when it calls it",
          "use the calls the layer wraps (include/autockpt/redirects_mpi.def), or build this "
          "program without autockpt");
    } else if (N.starts_with("MPI_") || N.starts_with("PMPI_")) {
      add(Kind::Mpi, Loc, N.str() + " (" + mpiFamily(N) + ")");
    } else if (N == "pthread_create" || N == "thrd_create") {
      add(Kind::Threads, Loc, N.str());
    } else if (N.starts_with("cuda") || (N.starts_with("cu") && N.size() > 2 &&
                                             isupper(static_cast<unsigned char>(N[2])))) {
      add(Kind::Cuda, Loc, N.str());
    } else if (N == "signal" || N == "sigaction" || N == "sigset") {
      add(Kind::SignalHandler, Loc, N.str());
    }
    return true;
  }

  bool VisitCXXConstructExpr(CXXConstructExpr *E) {
    if (const CXXRecordDecl *R = E->getConstructor()->getParent())
      if (R->getQualifiedNameAsString() == "std::thread" ||
          R->getQualifiedNameAsString() == "std::jthread")
        add(Kind::Threads, E->getExprLoc(), R->getQualifiedNameAsString());
    return true;
  }

  bool VisitGCCAsmStmt(GCCAsmStmt *S) {
    bool SP = false;
    for (unsigned K = 0; K < S->getNumClobbers(); ++K) {
      std::string C = asmClobber(*S, K);
      SP |= C == "rsp" || C == "esp" || C == "sp";
    }
    std::string AsmText = asmText(*S);
    StringRef Text = AsmText;
    SP |= Text.contains("rsp") || Text.contains("esp") || Text.contains("push") ||
          Text.contains("pop") || Text.contains("%sp");
    if (SP)
      add(Kind::Asm, S->getAsmLoc(), "inline asm",
          "inline asm that moves the stack pointer: autockpt saves and restores a frame by its "
          "layout at safe points, so a stack pointer the asm leaves changed breaks a restart",
          "keep pushes and pops balanced inside one asm statement");
    return true;
  }

  bool VisitForStmt(ForStmt *S) { return loop(S); }
  bool VisitWhileStmt(WhileStmt *S) { return loop(S); }
  bool VisitDoStmt(DoStmt *S) { return loop(S); }
  bool VisitCXXForRangeStmt(CXXForRangeStmt *S) { return loop(S); }

  bool VisitOMPTaskDirective(OMPTaskDirective *S) {
    add(Kind::OpenMPTask, S->getBeginLoc(), "#pragma omp task");
    return true;
  }
  bool VisitOMPTaskLoopDirective(OMPTaskLoopDirective *S) {
    add(Kind::OpenMPTask, S->getBeginLoc(), "#pragma omp taskloop");
    return true;
  }

  bool VisitVarDecl(VarDecl *V) {
    if (V->getTLSKind() != VarDecl::TLS_None)
      add(Kind::ThreadLocal, V->getLocation(), V->getNameAsString());
    if (isNoSave(*V))
      noSave(*V);
    return true;
  }

 private:
  // Zero, or braces of zeros: what a nosave variable holds after a restart anyway.
  bool isZero(const Expr *E) const {
    E = E->IgnoreParenImpCasts();
    if (isa<ImplicitValueInitExpr>(E))
      return true;
    if (const auto *L = dyn_cast<InitListExpr>(E)) {
      for (const Expr *I : L->inits())
        if (!isZero(I))
          return false;
      return !L->hasArrayFiller() || isZero(L->getArrayFiller());
    }
    if (E->isValueDependent() || E->isTypeDependent())
      return false;
    Expr::EvalResult R;
    if (!E->EvaluateAsRValue(R, Ctx))
      return false;
    const APValue &V = R.Val;
    return (V.isInt() && V.getInt().isZero()) || (V.isFloat() && V.getFloat().isPosZero()) ||
           (V.isLValue() && V.isNullPointer());
  }

  // After a restart a nosave local holds zeros, and a nosave global its bytes in the
  // executable (its initializer; zeros for an object a constructor makes, which does not run
  // again: R16).  So a local whose value comes from an initializer or is const, and any object
  // made by a constructor, is read before it is written again.  (A variable the program reads
  // before writing it in the code after the restart is beyond what the front end sees cheaply:
  // docs/design.md C7.)
  void noSave(const VarDecl &V) {
    std::string Name = "'" + V.getNameAsString() + "'";
    QualType T = V.getType();
    const CXXRecordDecl *R = Ctx.getBaseElementType(T)->getAsCXXRecordDecl();
    const Expr *Init = V.getInit();
    bool Local = V.hasLocalStorage();
    if (Local && T.isConstQualified())
      add(Kind::NoSave, V.getLocation(), V.getNameAsString(),
          Name + " is a nosave local and const: after a restart it holds zeros, and the program "
          "never writes it again",
          "drop nosave: const data is not written by the program");
    else if (R && !R->hasTrivialDefaultConstructor())
      add(Kind::NoSave, V.getLocation(), V.getNameAsString(),
          Name + " is nosave and has a constructor: after a restart its bytes are zeros, not "
          "what the constructor made (a std::vector is then empty and its elements lost)",
          "keep it saved, or make it again (assign, resize) in the code that uses it");
    else if (Local && Init && !isa<CXXConstructExpr>(Init->IgnoreImplicit()) && !isZero(Init))
      add(Kind::NoSave, V.getLocation(), V.getNameAsString(),
          Name + " is a nosave local with an initial value: after a restart it holds zeros, not "
          "that value",
          "set its value in the code that uses it, before every use after a restart, or drop "
          "nosave");
  }

  ASTContext &Ctx;
  SourceManager &SM;
  const std::function<void(const Finding &)> &Report;
  const FunctionDecl *Current = nullptr;

  bool inSystemHeader(SourceLocation L) const {
    return L.isValid() && SM.isInSystemHeader(SM.getExpansionLoc(L));
  }

  // A C library function: declared at file scope in C, or extern "C" in C++.
  static bool isCLibraryName(const FunctionDecl &F) {
    return F.getDeclContext()->getRedeclContext()->isTranslationUnit() &&
           (F.isExternC() || !F.getASTContext().getLangOpts().CPlusPlus);
  }

  bool loop(Stmt *S) {
    add(Kind::Loop, S->getBeginLoc(), "loop");
    return true;
  }

  void add(Kind K, SourceLocation Loc, std::string What, std::string Message = "",
           std::string Hint = "") {
    if (inSystemHeader(Loc))
      return;
    Finding F{K, Loc, Current, std::move(What), std::move(Message), std::move(Hint)};
    Report(F);
  }
};

}  // namespace

void findAll(ASTContext &Ctx, const std::function<void(const Finding &)> &Report) {
  Finder(Ctx, Report).TraverseDecl(Ctx.getTranslationUnitDecl());
}

}  // namespace autockpt
