// What the pieces of the clang plugin share: the Sema of the translation unit being parsed
// (the pragma handler looks variables up in it; null while only preprocessing).
#pragma once

namespace clang {
class Sema;
}

namespace autockpt {

clang::Sema *currentSema();
void setCurrentSema(clang::Sema *S);

}  // namespace autockpt
