! MPI from Fortran (mpif.h): the bindings mpi_init_ etc. are refused at the first call (M18).
program p
  implicit none
  ! Not mpif.h: flang-new-22 rejects OpenMPI's mpif-sizeof.h (generic MPI_Sizeof interfaces it
  ! cannot tell apart).  The calls are external subroutines all the same; the program stops at
  ! the first, so the communicator's value is never used.
  integer, parameter :: MPI_COMM_WORLD = 0
  integer :: ierr, rank
  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  print *, 'rank', rank
  call MPI_Finalize(ierr)
end program p
