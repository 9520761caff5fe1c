! Fortran units across restarts (F7): a unit written every step (formatted, write-only), an input
! file read a record per step, an unformatted sequential unit (NEWUNIT, after another NEWUNIT
! was closed, so its number is not the first), and a direct-access unit, all open across every
! checkpoint.  At the end the files are read back: a record lost or written twice changes the
! counts and sums printed.
program units
  implicit none
  integer, parameter :: steps = 60
  integer :: step, k, u_tmp, u_bin, u_new, ios, nrec, total, iv, rec
  character(len=512) :: dir
  character(len=80) :: line
  real(8) :: x, acc

  call get_command_argument(1, dir)
  open(newunit=u_tmp, file=trim(dir)//'/tmp.txt', status='replace')
  open(newunit=u_bin, file=trim(dir)//'/steps.bin', form='unformatted', status='replace')
  close(u_tmp, status='delete')
  open(unit=12, file=trim(dir)//'/input.txt', status='old', action='read')
  open(unit=10, file=trim(dir)//'/out.txt', status='replace', action='write')
  open(unit=13, file=trim(dir)//'/direct.bin', access='direct', form='unformatted', recl=16, &
       status='replace')

  x = 1.0d0
  do step = 1, steps
    read(12, *) iv
    acc = 0
    do k = 1, 20000
      acc = acc + mod(k * iv + step, 7) * 0.5d0
    end do
    x = x * 0.999d0 + acc * 1.0d-6
    write(10, '(a,i0,a,i0,a,f14.6)') 'step ', step, ' input ', iv, ' acc ', acc
    write(u_bin) step, acc
    write(13, rec=step) step, x
    if (mod(step, 15) == 0) print '(a,i0,a,f14.6)', 'at step ', step, ' x ', x
  end do
  close(10)
  close(12)
  close(13)
  close(u_bin)

  open(unit=10, file=trim(dir)//'/out.txt', status='old', action='read')
  nrec = 0
  total = 0
  do
    read(10, '(a)', iostat=ios) line
    if (ios /= 0) exit
    nrec = nrec + 1
    read(line(6:), *) k
    total = total + k
  end do
  close(10)
  print '(a,i0,a,i0)', 'out.txt lines ', nrec, ' step sum ', total

  open(newunit=u_new, file=trim(dir)//'/steps.bin', form='unformatted', status='old')
  nrec = 0
  acc = 0
  do
    read(u_new, iostat=ios) k, x
    if (ios /= 0) exit
    nrec = nrec + 1
    acc = acc + x * k
  end do
  close(u_new)
  print '(a,i0,a,f20.4,a,i0)', 'steps.bin records ', nrec, ' weighted ', acc, ' newunit ', u_new

  open(unit=13, file=trim(dir)//'/direct.bin', access='direct', form='unformatted', recl=16, &
       status='old')
  total = 0
  do rec = 1, steps
    read(13, rec=rec) k, x
    total = total + k
  end do
  close(13)
  print '(a,i0,a,f14.6)', 'direct.bin step sum ', total, ' last x ', x
end program
